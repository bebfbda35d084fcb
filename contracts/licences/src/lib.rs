//! Electronic licences and certificates (business licences, property certificates, residence
//! registrations). The registry's operator (the department that instantiates it) authorises
//! issuing departments. An issuer signs a licence document off chain and records here only its
//! hash, the subject it is about, its kind and its validity; from then on the on-chain status
//! (valid, suspended, revoked, or expired once its validity ends) is what every verifier checks,
//! with a state proof, without contacting the issuer (`civitas licence verify`). A renewal
//! records the hash of a new document as the next version. Verifiers that are chain members
//! record each presentation they checked, so the trail of who checked a citizen's licence is on
//! chain too.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use civitas_sdk::prelude::*;

/// A licence's recorded status (expiry is derived from `valid_until` and the block time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum LicenceStatus {
    /// In force until `valid_until`.
    Valid,
    /// Suspended by its issuer; may be reinstated.
    Suspended,
    /// Revoked by its issuer; final.
    Revoked,
}

/// One licence, as verifiers read it from state.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Licence {
    /// Sequential id.
    pub id: u64,
    /// The issuing department.
    pub issuer: AccountId,
    /// The subject (citizen or business) it is about.
    pub subject: Hash,
    /// Kind, e.g. "business-licence".
    pub kind: String,
    /// sha3-256 of the signed document of the current version.
    pub document_hash: Hash,
    /// 1 at issue, one more at each renewal.
    pub version: u32,
    /// Recorded status.
    pub status: LicenceStatus,
    /// End of validity, block time in ms.
    pub valid_until: u64,
    /// Why it was suspended or revoked (empty while valid).
    pub reason: String,
}

/// Licence storage.
#[storage]
pub struct Licences {
    operator: Value<AccountId>,
    issuers: Mapping<AccountId, bool>,
    next_id: Value<u64>,
    licences: Mapping<u64, Licence>,
}

/// A department may now issue licences.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct IssuerAdded {
    /// The department.
    pub issuer: AccountId,
}

/// A licence was issued.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Issued {
    /// Licence id.
    pub licence: u64,
    /// Issuer.
    pub issuer: AccountId,
    /// Subject.
    pub subject: Hash,
    /// Kind.
    pub kind: String,
    /// End of validity.
    pub valid_until: u64,
    /// Block time.
    pub at: u64,
}

/// A licence's status changed (suspended, reinstated or revoked).
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct StatusChanged {
    /// Licence id.
    pub licence: u64,
    /// The new status.
    pub status: LicenceStatus,
    /// Why.
    pub reason: String,
    /// Block time.
    pub at: u64,
}

/// A licence was renewed with a new document.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Renewed {
    /// Licence id.
    pub licence: u64,
    /// The new version.
    pub version: u32,
    /// End of validity.
    pub valid_until: u64,
    /// Block time.
    pub at: u64,
}

/// A verifier checked a presentation of the licence.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Presented {
    /// Licence id.
    pub licence: u64,
    /// The subject it is about.
    pub subject: Hash,
    /// The verifier.
    pub verifier: AccountId,
    /// The version it checked.
    pub version: u32,
    /// Block time.
    pub at: u64,
}

/// Why a call failed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, ContractError)]
pub enum Error {
    /// Only the registry's operator may do this.
    NotOperator,
    /// The caller is not an authorised issuer.
    NotIssuer,
    /// Only the licence's issuer may do this.
    NotLicenceIssuer,
    /// No licence with that id.
    UnknownLicence,
    /// The validity must end after the current block.
    ValidityInPast,
    /// A revoked licence stays revoked.
    Revoked,
    /// The licence is not in a state that allows this step.
    WrongStatus,
    /// A licence needs a kind.
    EmptyKind,
}

#[contract(events(IssuerAdded, Issued, StatusChanged, Renewed, Presented))]
impl Licences {
    /// The caller becomes the registry's operator and its first issuer.
    #[constructor]
    pub fn new(&mut self) {
        let operator = env::caller();
        self.operator.set(&operator);
        self.issuers.insert(&operator, &true);
        self.next_id.set(&1);
        env::emit(&IssuerAdded { issuer: operator });
    }

    /// Authorises a department to issue licences (the operator only).
    #[call]
    pub fn add_issuer(&mut self, issuer: AccountId) -> Result<(), Error> {
        if self.operator.get() != Some(env::caller()) {
            return Err(Error::NotOperator);
        }
        self.issuers.insert(&issuer, &true);
        env::emit(&IssuerAdded { issuer });
        Ok(())
    }

    /// Records a licence of `kind` about `subject` whose signed document hashes to
    /// `document_hash`, valid until `valid_until`; returns its id.
    #[call]
    pub fn issue(
        &mut self,
        subject: Hash,
        kind: String,
        document_hash: Hash,
        valid_until: u64,
    ) -> Result<u64, Error> {
        let issuer = env::caller();
        if !self.issuers.get_or_default(&issuer) {
            return Err(Error::NotIssuer);
        }
        if kind.trim().is_empty() {
            return Err(Error::EmptyKind);
        }
        let at = env::block_time();
        if valid_until <= at {
            return Err(Error::ValidityInPast);
        }
        let id = self.next_id.get_or_default().max(1);
        self.next_id.set(&(id + 1));
        self.licences.insert(
            &id,
            &Licence {
                id,
                issuer,
                subject,
                kind: kind.clone(),
                document_hash,
                version: 1,
                status: LicenceStatus::Valid,
                valid_until,
                reason: String::new(),
            },
        );
        env::emit(&Issued {
            licence: id,
            issuer,
            subject,
            kind,
            valid_until,
            at,
        });
        Ok(id)
    }

    /// Suspends a valid licence (its issuer only).
    #[call]
    pub fn suspend(&mut self, licence: u64, reason: String) -> Result<(), Error> {
        self.set_status(
            licence,
            LicenceStatus::Valid,
            LicenceStatus::Suspended,
            reason,
        )
    }

    /// Puts a suspended licence back in force (its issuer only).
    #[call]
    pub fn reinstate(&mut self, licence: u64) -> Result<(), Error> {
        self.set_status(
            licence,
            LicenceStatus::Suspended,
            LicenceStatus::Valid,
            String::new(),
        )
    }

    /// Revokes a licence for good (its issuer only).
    #[call]
    pub fn revoke(&mut self, licence: u64, reason: String) -> Result<(), Error> {
        let mut l = self.own_licence(licence)?;
        if l.status == LicenceStatus::Revoked {
            return Err(Error::Revoked);
        }
        l.status = LicenceStatus::Revoked;
        l.reason = reason.clone();
        self.licences.insert(&licence, &l);
        env::emit(&StatusChanged {
            licence,
            status: LicenceStatus::Revoked,
            reason,
            at: env::block_time(),
        });
        Ok(())
    }

    /// Records the next version: a new signed document and validity (its issuer only; not
    /// for a revoked licence). Returns the new version.
    #[call]
    pub fn renew(
        &mut self,
        licence: u64,
        document_hash: Hash,
        valid_until: u64,
    ) -> Result<u32, Error> {
        let mut l = self.own_licence(licence)?;
        if l.status == LicenceStatus::Revoked {
            return Err(Error::Revoked);
        }
        let at = env::block_time();
        if valid_until <= at {
            return Err(Error::ValidityInPast);
        }
        l.version = l.version.saturating_add(1);
        l.document_hash = document_hash;
        l.valid_until = valid_until;
        self.licences.insert(&licence, &l);
        env::emit(&Renewed {
            licence,
            version: l.version,
            valid_until,
            at,
        });
        Ok(l.version)
    }

    /// Records that the caller checked a presentation of `licence` (any verifier).
    #[call]
    pub fn presented(&mut self, licence: u64) -> Result<(), Error> {
        let l = self.licences.get(&licence).ok_or(Error::UnknownLicence)?;
        env::emit(&Presented {
            licence,
            subject: l.subject,
            verifier: env::caller(),
            version: l.version,
            at: env::block_time(),
        });
        Ok(())
    }

    /// The licence with `id`, as recorded.
    #[view]
    pub fn licence(&self, id: u64) -> Option<Licence> {
        self.licences.get(&id)
    }

    /// Whether licence `id` is in force at the current block: valid and not expired.
    #[view]
    pub fn in_force(&self, id: u64) -> bool {
        self.licences
            .get(&id)
            .is_some_and(|l| l.status == LicenceStatus::Valid && env::block_time() < l.valid_until)
    }
}

impl Licences {
    /// The licence, if the caller issued it.
    fn own_licence(&self, id: u64) -> Result<Licence, Error> {
        let l = self.licences.get(&id).ok_or(Error::UnknownLicence)?;
        if l.issuer != env::caller() {
            return Err(Error::NotLicenceIssuer);
        }
        Ok(l)
    }

    fn set_status(
        &mut self,
        licence: u64,
        from: LicenceStatus,
        to: LicenceStatus,
        reason: String,
    ) -> Result<(), Error> {
        let mut l = self.own_licence(licence)?;
        if l.status != from {
            return Err(Error::WrongStatus);
        }
        l.status = to;
        l.reason = reason.clone();
        self.licences.insert(&licence, &l);
        env::emit(&StatusChanged {
            licence,
            status: to,
            reason,
            at: env::block_time(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_sdk::test;

    const DAY: u64 = 86_400_000;

    #[test]
    fn a_licence_is_suspended_reinstated_renewed_revoked_and_expires() {
        test::reset();
        test::set_block(1, 100 * DAY);
        let a = test::accounts();
        // alice operates the registry; bob issues; charlie is a stranger.
        let mut c = Licences::default();
        c.new();
        let subject = env::sha3_256(b"acme ltd");
        let doc = env::sha3_256(b"document v1");
        test::set_caller(a.bob);
        assert_eq!(
            c.issue(subject, "business-licence".into(), doc, 200 * DAY),
            Err(Error::NotIssuer)
        );
        test::set_caller(a.alice);
        c.add_issuer(a.bob).expect("add issuer");
        test::set_caller(a.bob);
        assert_eq!(
            c.issue(subject, "business-licence".into(), doc, 100 * DAY),
            Err(Error::ValidityInPast)
        );
        let id = c
            .issue(subject, "business-licence".into(), doc, 200 * DAY)
            .expect("issue");
        assert!(c.in_force(id));
        test::set_caller(a.charlie);
        assert_eq!(c.suspend(id, "x".into()), Err(Error::NotLicenceIssuer));
        test::set_caller(a.bob);
        c.suspend(id, "unpaid fee".into()).expect("suspend");
        assert!(!c.in_force(id));
        assert_eq!(c.suspend(id, "again".into()), Err(Error::WrongStatus));
        c.reinstate(id).expect("reinstate");
        assert!(c.in_force(id));
        assert_eq!(c.renew(id, env::sha3_256(b"document v2"), 300 * DAY), Ok(2));
        test::set_block(2, 300 * DAY);
        assert!(!c.in_force(id), "expired at its validity's end");
        c.revoke(id, "fraud".into()).expect("revoke");
        assert_eq!(c.reinstate(id), Err(Error::WrongStatus));
        assert_eq!(
            c.renew(id, doc, 400 * DAY),
            Err(Error::Revoked),
            "revoked is final"
        );
        let l = c.licence(id).expect("licence");
        assert_eq!(
            (l.status, l.version, l.reason.as_str()),
            (LicenceStatus::Revoked, 2, "fraud")
        );
        test::set_caller(a.charlie);
        c.presented(id).expect("any verifier records a check");
        assert_eq!(test::events_of::<Presented>()[0].verifier, a.charlie);
    }
}
