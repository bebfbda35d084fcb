//! Supervision records that cannot be back-filled. The supervising department (say, market
//! supervision) instantiates the contract with a lateness window and registers the entities it
//! supervises (a hotel), each with the keys that may report for it (a camera's device key, a
//! staff key) and a schedule: one report expected every `every_ms` from `starting_at`. A
//! reporter files signed records (its transaction's signature) of what happened and when, e.g.
//! a disinfection: room, method, the hash of the camera's result. The chain stores the block
//! time beside the claimed time; a record claimed more than the window before its block is
//! accepted but marked late, and one claimed in the future is refused. `civitas supervision
//! report` shows each entity's compliance against its schedule: records on time, late records,
//! and the slots with no record at all (gaps).
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use civitas_sdk::prelude::*;

/// How far ahead of its block a claimed time may be (clocks differ), in milliseconds.
pub const MAX_CLOCK_AHEAD_MS: u64 = 60_000;

/// A supervised entity.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Entity {
    /// Sequential id.
    pub id: u64,
    /// Name, e.g. "Harbour Hotel".
    pub name: String,
    /// One report expected every this many milliseconds...
    pub every_ms: u64,
    /// ...from this block time on.
    pub starting_at: u64,
    /// Records filed.
    pub records: u64,
    /// Of which late.
    pub late: u64,
}

/// One supervision record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Record {
    /// Sequential id (over every entity).
    pub id: u64,
    /// The entity.
    pub entity: u64,
    /// The key that filed it.
    pub reporter: AccountId,
    /// What kind of event, e.g. "disinfection".
    pub kind: String,
    /// What the reporter says, e.g. "room 204, UV-C 15 min".
    pub details: String,
    /// Hash of the evidence kept off chain (the camera's result).
    pub evidence: Hash,
    /// When the reporter says it happened (ms since the Unix epoch).
    pub claimed_at: u64,
    /// The block time at which the chain recorded it.
    pub recorded_at: u64,
    /// Whether it was recorded more than the window after its claimed time.
    pub late: bool,
}

/// Supervision storage.
#[storage]
pub struct Supervision {
    department: Value<AccountId>,
    late_after_ms: Value<u64>,
    next_entity: Value<u64>,
    entities: Mapping<u64, Entity>,
    /// (entity, key) -> whether the key may report for the entity.
    reporters: Mapping<(u64, AccountId), bool>,
    next_record: Value<u64>,
    records: Mapping<u64, Record>,
}

/// An entity came under supervision.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Registered {
    /// Entity id.
    pub entity: u64,
    /// Its name.
    pub name: String,
    /// One report expected every this many milliseconds...
    pub every_ms: u64,
    /// ...from this block time on.
    pub starting_at: u64,
    /// Block time.
    pub at: u64,
}

/// The department changed an entity's schedule.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct ScheduleSet {
    /// Entity id.
    pub entity: u64,
    /// One report expected every this many milliseconds...
    pub every_ms: u64,
    /// ...from this block time on.
    pub starting_at: u64,
    /// Block time.
    pub at: u64,
}

/// A key may now report for an entity.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct ReporterAdded {
    /// Entity id.
    pub entity: u64,
    /// The key.
    pub reporter: AccountId,
    /// Block time.
    pub at: u64,
}

/// A key may no longer report for an entity.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct ReporterRemoved {
    /// Entity id.
    pub entity: u64,
    /// The key.
    pub reporter: AccountId,
    /// Block time.
    pub at: u64,
}

/// A record was filed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Reported {
    /// Entity id.
    pub entity: u64,
    /// Record id.
    pub record: u64,
    /// The key that filed it.
    pub reporter: AccountId,
    /// What kind of event.
    pub kind: String,
    /// Hash of the evidence.
    pub evidence: Hash,
    /// When the reporter says it happened.
    pub claimed_at: u64,
    /// Whether it came later than the window allows.
    pub late: bool,
    /// Block time: when the chain recorded it.
    pub at: u64,
}

/// Why a call failed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, ContractError)]
pub enum Error {
    /// Only the supervising department may do this.
    NotDepartment,
    /// No entity with that id.
    UnknownEntity,
    /// The caller may not report for this entity.
    NotReporter,
    /// A schedule needs a period above zero.
    ZeroPeriod,
    /// The claimed time is ahead of the block by more than the clock allowance.
    ClaimedInFuture,
    /// An entity needs a name.
    EmptyName,
}

#[contract(events(Registered, ScheduleSet, ReporterAdded, ReporterRemoved, Reported))]
impl Supervision {
    /// The caller becomes the supervising department; records claimed more than
    /// `late_after_ms` before their block are marked late.
    #[constructor]
    pub fn new(&mut self, late_after_ms: u64) {
        self.department.set(&env::caller());
        self.late_after_ms.set(&late_after_ms);
        self.next_entity.set(&1);
        self.next_record.set(&1);
    }

    /// Registers an entity expected to report every `every_ms` from `starting_at`; returns its
    /// id (the department only).
    #[call]
    pub fn register(
        &mut self,
        name: String,
        every_ms: u64,
        starting_at: u64,
    ) -> Result<u64, Error> {
        self.only_department()?;
        if name.trim().is_empty() {
            return Err(Error::EmptyName);
        }
        if every_ms == 0 {
            return Err(Error::ZeroPeriod);
        }
        let id = self.next_entity.get_or_default().max(1);
        self.next_entity.set(&(id + 1));
        self.entities.insert(
            &id,
            &Entity {
                id,
                name: name.clone(),
                every_ms,
                starting_at,
                records: 0,
                late: 0,
            },
        );
        env::emit(&Registered {
            entity: id,
            name,
            every_ms,
            starting_at,
            at: env::block_time(),
        });
        Ok(id)
    }

    /// Changes an entity's schedule from `starting_at` on (the department only).
    #[call]
    pub fn set_schedule(
        &mut self,
        entity: u64,
        every_ms: u64,
        starting_at: u64,
    ) -> Result<(), Error> {
        self.only_department()?;
        if every_ms == 0 {
            return Err(Error::ZeroPeriod);
        }
        let mut e = self.entities.get(&entity).ok_or(Error::UnknownEntity)?;
        e.every_ms = every_ms;
        e.starting_at = starting_at;
        self.entities.insert(&entity, &e);
        env::emit(&ScheduleSet {
            entity,
            every_ms,
            starting_at,
            at: env::block_time(),
        });
        Ok(())
    }

    /// Lets `reporter` file records for `entity` (the department only).
    #[call]
    pub fn add_reporter(&mut self, entity: u64, reporter: AccountId) -> Result<(), Error> {
        self.only_department()?;
        if !self.entities.contains(&entity) {
            return Err(Error::UnknownEntity);
        }
        self.reporters.insert(&(entity, reporter), &true);
        env::emit(&ReporterAdded {
            entity,
            reporter,
            at: env::block_time(),
        });
        Ok(())
    }

    /// Stops `reporter` filing records for `entity` (the department only).
    #[call]
    pub fn remove_reporter(&mut self, entity: u64, reporter: AccountId) -> Result<(), Error> {
        self.only_department()?;
        self.reporters.remove(&(entity, reporter));
        env::emit(&ReporterRemoved {
            entity,
            reporter,
            at: env::block_time(),
        });
        Ok(())
    }

    /// Files a record for `entity` of what happened at `claimed_at`; returns its id. It is
    /// marked late when claimed more than the window before this block.
    #[call]
    pub fn report(
        &mut self,
        entity: u64,
        kind: String,
        details: String,
        evidence: Hash,
        claimed_at: u64,
    ) -> Result<u64, Error> {
        let reporter = env::caller();
        let mut e = self.entities.get(&entity).ok_or(Error::UnknownEntity)?;
        if !self.reporters.get_or_default(&(entity, reporter)) {
            return Err(Error::NotReporter);
        }
        let now = env::block_time();
        if claimed_at > now.saturating_add(MAX_CLOCK_AHEAD_MS) {
            return Err(Error::ClaimedInFuture);
        }
        let late = now.saturating_sub(claimed_at) > self.late_after_ms.get_or_default();
        let id = self.next_record.get_or_default().max(1);
        self.next_record.set(&(id + 1));
        e.records += 1;
        if late {
            e.late += 1;
        }
        self.entities.insert(&entity, &e);
        self.records.insert(
            &id,
            &Record {
                id,
                entity,
                reporter,
                kind: kind.clone(),
                details,
                evidence,
                claimed_at,
                recorded_at: now,
                late,
            },
        );
        env::emit(&Reported {
            entity,
            record: id,
            reporter,
            kind,
            evidence,
            claimed_at,
            late,
            at: now,
        });
        Ok(id)
    }

    /// The entity with `id`.
    #[view]
    pub fn entity(&self, id: u64) -> Option<Entity> {
        self.entities.get(&id)
    }

    /// The record with `id`.
    #[view]
    pub fn record(&self, id: u64) -> Option<Record> {
        self.records.get(&id)
    }

    /// The lateness window, in milliseconds.
    #[view]
    pub fn late_after_ms(&self) -> u64 {
        self.late_after_ms.get_or_default()
    }
}

impl Supervision {
    fn only_department(&self) -> Result<(), Error> {
        if self.department.get() != Some(env::caller()) {
            return Err(Error::NotDepartment);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_sdk::test;

    const HOUR: u64 = 3_600_000;

    #[test]
    fn records_keep_the_block_time_beside_the_claimed_time_and_late_ones_are_marked() {
        test::reset();
        test::set_block(1, 100 * HOUR);
        let a = test::accounts();
        // alice supervises; bob is the hotel's camera key; charlie a stranger.
        let mut c = Supervision::default();
        c.new(2 * HOUR);
        let hotel = c
            .register("Harbour Hotel".into(), 24 * HOUR, 100 * HOUR)
            .expect("register");
        c.add_reporter(hotel, a.bob).expect("reporter");
        test::set_caller(a.charlie);
        assert_eq!(c.register("x".into(), HOUR, 0), Err(Error::NotDepartment));
        let evidence = env::sha3_256(b"camera frame");
        assert_eq!(
            c.report(
                hotel,
                "disinfection".into(),
                "room 1".into(),
                evidence,
                100 * HOUR
            ),
            Err(Error::NotReporter)
        );
        test::set_caller(a.bob);
        test::set_block(2, 110 * HOUR);
        let on_time = c
            .report(
                hotel,
                "disinfection".into(),
                "room 1".into(),
                evidence,
                109 * HOUR,
            )
            .expect("report");
        let late = c
            .report(
                hotel,
                "disinfection".into(),
                "room 2".into(),
                evidence,
                105 * HOUR,
            )
            .expect("a late record is accepted");
        assert_eq!(
            c.report(
                hotel,
                "disinfection".into(),
                "room 3".into(),
                evidence,
                111 * HOUR
            ),
            Err(Error::ClaimedInFuture)
        );
        let r = c.record(late).expect("record");
        assert_eq!(
            (r.claimed_at, r.recorded_at, r.late),
            (105 * HOUR, 110 * HOUR, true)
        );
        assert!(!c.record(on_time).expect("record").late);
        let e = c.entity(hotel).expect("entity");
        assert_eq!((e.records, e.late), (2, 1));
        assert_eq!(test::events_of::<Reported>().len(), 2);
        test::set_caller(a.alice);
        c.remove_reporter(hotel, a.bob).expect("remove");
        test::set_caller(a.bob);
        assert_eq!(
            c.report(
                hotel,
                "disinfection".into(),
                "room 4".into(),
                evidence,
                110 * HOUR
            ),
            Err(Error::NotReporter)
        );
    }
}
