//! Community repair tickets. The property company that instantiates the contract serves an
//! estate: a resident files a repair request, the company assigns it to a worker, the company or
//! the worker closes it, and the resident who filed it confirms the repair (final) or reopens the
//! ticket. Every step is an event with its block time, so the time each ticket took to close,
//! and how often it was reopened, are public and followed by `civitas trace`.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use civitas_sdk::prelude::*;

/// Where a ticket stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum TicketStatus {
    /// Filed (or reopened), not yet assigned.
    Open,
    /// Assigned to a worker.
    Assigned,
    /// Closed by the company or its worker; the resident has not answered yet.
    Closed,
    /// Confirmed repaired by the resident; final.
    Confirmed,
}

/// One repair request.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Ticket {
    /// Sequential id.
    pub id: u64,
    /// The resident who filed it.
    pub resident: AccountId,
    /// What needs repair, e.g. "lift in block 4 stuck".
    pub title: String,
    /// Where it stands.
    pub status: TicketStatus,
    /// The worker it is assigned to.
    pub worker: Option<AccountId>,
    /// Block time of filing, in milliseconds.
    pub filed_at: u64,
    /// Block time of the latest close, while closed or confirmed.
    pub closed_at: Option<u64>,
    /// How often the resident reopened it.
    pub reopened: u32,
}

/// The estate's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Stats {
    /// Tickets filed.
    pub filed: u64,
    /// Tickets confirmed repaired.
    pub confirmed: u64,
    /// Reopenings, over every ticket.
    pub reopened: u64,
    /// Sum over confirmed tickets of the time from filing to the confirmed close, in ms.
    pub total_time_to_close_ms: u64,
}

/// Ticket storage.
#[storage]
pub struct CommunityTickets {
    company: Value<AccountId>,
    next_id: Value<u64>,
    tickets: Mapping<u64, Ticket>,
    stats: Value<Stats>,
}

/// A resident filed a ticket.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Filed {
    /// Ticket id.
    pub ticket: u64,
    /// The resident.
    pub resident: AccountId,
    /// What needs repair.
    pub title: String,
    /// Block time.
    pub at: u64,
}

/// The company assigned a ticket to a worker.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Assigned {
    /// Ticket id.
    pub ticket: u64,
    /// The worker.
    pub worker: AccountId,
    /// Block time.
    pub at: u64,
}

/// The company or its worker closed a ticket.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Closed {
    /// Ticket id.
    pub ticket: u64,
    /// Who closed it.
    pub by: AccountId,
    /// What was done.
    pub note: String,
    /// Block time.
    pub at: u64,
}

/// The resident confirmed the repair.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Confirmed {
    /// Ticket id.
    pub ticket: u64,
    /// From filing to the confirmed close, in milliseconds.
    pub time_to_close_ms: u64,
    /// Block time.
    pub at: u64,
}

/// The resident reopened a closed ticket.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Reopened {
    /// Ticket id.
    pub ticket: u64,
    /// Why.
    pub reason: String,
    /// Block time.
    pub at: u64,
}

/// Why a call failed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, ContractError)]
pub enum Error {
    /// No ticket with that id.
    UnknownTicket,
    /// Only the property company may do this.
    NotCompany,
    /// Only the company or the ticket's worker may close it.
    NotCompanyOrWorker,
    /// Only the resident who filed the ticket may do this.
    NotResident,
    /// The ticket is not in a state that allows this step.
    WrongStatus,
    /// A ticket needs a title.
    EmptyTitle,
}

#[contract(events(Filed, Assigned, Closed, Confirmed, Reopened))]
impl CommunityTickets {
    /// The caller becomes the estate's property company.
    #[constructor]
    pub fn new(&mut self) {
        self.company.set(&env::caller());
        self.next_id.set(&1);
    }

    /// Files a repair request; returns its id.
    #[call]
    pub fn file(&mut self, title: String) -> Result<u64, Error> {
        if title.trim().is_empty() {
            return Err(Error::EmptyTitle);
        }
        let resident = env::caller();
        let id = self.next_id.get_or_default().max(1);
        let at = env::block_time();
        self.next_id.set(&(id + 1));
        self.tickets.insert(
            &id,
            &Ticket {
                id,
                resident,
                title: title.clone(),
                status: TicketStatus::Open,
                worker: None,
                filed_at: at,
                closed_at: None,
                reopened: 0,
            },
        );
        let mut stats = self.stats.get_or_default();
        stats.filed += 1;
        self.stats.set(&stats);
        env::emit(&Filed {
            ticket: id,
            resident,
            title,
            at,
        });
        Ok(id)
    }

    /// Assigns an open or assigned ticket to `worker` (the company only).
    #[call]
    pub fn assign(&mut self, ticket: u64, worker: AccountId) -> Result<(), Error> {
        let mut t = self.ticket_of(ticket)?;
        if self.company.get() != Some(env::caller()) {
            return Err(Error::NotCompany);
        }
        if !matches!(t.status, TicketStatus::Open | TicketStatus::Assigned) {
            return Err(Error::WrongStatus);
        }
        t.status = TicketStatus::Assigned;
        t.worker = Some(worker);
        self.tickets.insert(&ticket, &t);
        env::emit(&Assigned {
            ticket,
            worker,
            at: env::block_time(),
        });
        Ok(())
    }

    /// Closes an open or assigned ticket (the company, or the worker it is assigned to).
    #[call]
    pub fn close(&mut self, ticket: u64, note: String) -> Result<(), Error> {
        let mut t = self.ticket_of(ticket)?;
        let by = env::caller();
        if self.company.get() != Some(by) && t.worker != Some(by) {
            return Err(Error::NotCompanyOrWorker);
        }
        if !matches!(t.status, TicketStatus::Open | TicketStatus::Assigned) {
            return Err(Error::WrongStatus);
        }
        let at = env::block_time();
        t.status = TicketStatus::Closed;
        t.closed_at = Some(at);
        self.tickets.insert(&ticket, &t);
        env::emit(&Closed {
            ticket,
            by,
            note,
            at,
        });
        Ok(())
    }

    /// Confirms a closed ticket repaired (its resident only); returns the time it took to close.
    #[call]
    pub fn confirm(&mut self, ticket: u64) -> Result<u64, Error> {
        let mut t = self.closed_ticket_of_caller(ticket)?;
        let closed_at = t.closed_at.unwrap_or(t.filed_at);
        let time_to_close_ms = closed_at.saturating_sub(t.filed_at);
        t.status = TicketStatus::Confirmed;
        self.tickets.insert(&ticket, &t);
        let mut stats = self.stats.get_or_default();
        stats.confirmed += 1;
        stats.total_time_to_close_ms = stats
            .total_time_to_close_ms
            .saturating_add(time_to_close_ms);
        self.stats.set(&stats);
        env::emit(&Confirmed {
            ticket,
            time_to_close_ms,
            at: env::block_time(),
        });
        Ok(time_to_close_ms)
    }

    /// Reopens a closed ticket (its resident only): it goes back to its worker, or to the
    /// company when it had none.
    #[call]
    pub fn reopen(&mut self, ticket: u64, reason: String) -> Result<(), Error> {
        let mut t = self.closed_ticket_of_caller(ticket)?;
        t.status = if t.worker.is_some() {
            TicketStatus::Assigned
        } else {
            TicketStatus::Open
        };
        t.closed_at = None;
        t.reopened = t.reopened.saturating_add(1);
        self.tickets.insert(&ticket, &t);
        let mut stats = self.stats.get_or_default();
        stats.reopened += 1;
        self.stats.set(&stats);
        env::emit(&Reopened {
            ticket,
            reason,
            at: env::block_time(),
        });
        Ok(())
    }

    /// The ticket with `id`.
    #[view]
    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        self.tickets.get(&id)
    }

    /// The estate's figures.
    #[view]
    pub fn stats(&self) -> Stats {
        self.stats.get_or_default()
    }

    /// The estate's property company.
    #[view]
    pub fn company(&self) -> Option<AccountId> {
        self.company.get()
    }
}

impl CommunityTickets {
    fn ticket_of(&self, id: u64) -> Result<Ticket, Error> {
        self.tickets.get(&id).ok_or(Error::UnknownTicket)
    }

    /// A closed ticket, if the caller is the resident who filed it.
    fn closed_ticket_of_caller(&self, id: u64) -> Result<Ticket, Error> {
        let t = self.ticket_of(id)?;
        if t.resident != env::caller() {
            return Err(Error::NotResident);
        }
        if t.status != TicketStatus::Closed {
            return Err(Error::WrongStatus);
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_sdk::test;

    const HOUR: u64 = 3_600_000;

    #[test]
    fn a_reopened_ticket_counts_its_time_to_close_from_filing_to_the_confirmed_close() {
        test::reset();
        test::set_block(1, 10 * HOUR);
        let a = test::accounts();
        // alice is the company, bob a resident, charlie a worker.
        let mut c = CommunityTickets::default();
        c.new();
        test::set_caller(a.bob);
        let id = c.file("lift stuck".into()).expect("file");
        assert_eq!(c.assign(id, a.charlie), Err(Error::NotCompany));
        test::set_caller(a.alice);
        c.assign(id, a.charlie).expect("assign");
        test::set_caller(a.dave);
        assert_eq!(c.close(id, "x".into()), Err(Error::NotCompanyOrWorker));
        test::set_caller(a.charlie);
        test::set_block(2, 12 * HOUR);
        c.close(id, "reset the lift".into()).expect("close");
        test::set_caller(a.alice);
        assert_eq!(c.confirm(id), Err(Error::NotResident));
        test::set_caller(a.bob);
        c.reopen(id, "stuck again".into()).expect("reopen");
        assert_eq!(
            c.confirm(id),
            Err(Error::WrongStatus),
            "reopened, not closed"
        );
        assert_eq!(c.ticket(id).map(|t| t.status), Some(TicketStatus::Assigned));
        test::set_caller(a.charlie);
        test::set_block(3, 15 * HOUR);
        c.close(id, "replaced the motor".into()).expect("close");
        test::set_caller(a.bob);
        assert_eq!(c.confirm(id), Ok(5 * HOUR));
        assert_eq!(c.reopen(id, "late".into()), Err(Error::WrongStatus));
        assert_eq!(
            c.stats(),
            Stats {
                filed: 1,
                confirmed: 1,
                reopened: 1,
                total_time_to_close_ms: 5 * HOUR
            }
        );
        assert_eq!(test::events_of::<Closed>().len(), 2);
        assert_eq!(test::events_of::<Reopened>().len(), 1);
        assert_eq!(c.file("  ".into()), Err(Error::EmptyTitle));
    }
}
