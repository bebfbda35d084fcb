//! Who may use whose data: identity bindings, datasets, record commitments, consent artefacts,
//! regulators' code approvals, the audit trail, and the sealed-read decision that ties them
//! together. Every rule here is deterministic and reads only committed state and the block
//! context, so every node reaches the same decision.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use civitas_primitives::vault::{
    AccessKind, AccessOutcome, AuditEntry, ConsentArtefact, ConsentMode, ConsentStatus, Dataset,
    DeclaredRead, RefusalReason, SubjectId,
};
use civitas_primitives::{AccountId, Hash};
use civitas_runtime::{BlockContext, SealedRead, SealedReadRequest, SealedSource, StateError};
use parity_scale_codec::{Decode, Encode};

use crate::state::{keys, StateView};
use crate::vault::Vault;

/// One committed version of a record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredRecord {
    /// Version.
    pub version: u32,
    /// Salted record hash.
    pub record_hash: Hash,
    /// Signing custodian.
    pub custodian: AccountId,
    /// The custodian's signature over `record_hash`.
    pub signature: [u8; 64],
    /// Height it was committed at.
    pub height: u64,
}

pub use civitas_primitives::state::CodeApproval;

/// A committed disclosure: what the grantee may download.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Disclosure {
    /// The consent used.
    pub consent: u64,
    /// The institution.
    pub grantee: AccountId,
    /// The citizen.
    pub subject: SubjectId,
    /// Disclosed records: (dataset, version, record hash).
    pub records: Vec<(String, u32, Hash)>,
    /// Height.
    pub height: u64,
}

/// The audit context of one transaction's accesses: who accesses data, how, in which
/// transaction and block. Every audit entry of the ledger is built from one, so an entry's
/// fields mean the same on every path (sealed reads and disclosures, granted or refused).
#[derive(Clone, Copy, Debug)]
pub struct AuditContext {
    accessor: AccountId,
    kind: AccessKind,
    /// The running contract and its code (sealed reads).
    contract: Option<(AccountId, Hash)>,
    tx_hash: Hash,
    block: BlockContext,
}

impl AuditContext {
    /// A disclosure by `accessor` in transaction `tx_hash`.
    pub fn disclosure(accessor: AccountId, tx_hash: Hash, block: BlockContext) -> Self {
        AuditContext {
            accessor,
            kind: AccessKind::Disclosure,
            contract: None,
            tx_hash,
            block,
        }
    }

    /// A sealed read by `accessor`'s call of `contract` running `code_hash`.
    pub fn sealed_read(
        accessor: AccountId,
        contract: AccountId,
        code_hash: Hash,
        tx_hash: Hash,
        block: BlockContext,
    ) -> Self {
        AuditContext {
            accessor,
            kind: AccessKind::SealedRead,
            contract: Some((contract, code_hash)),
            tx_hash,
            block,
        }
    }

    /// The entry for an access to `subject`'s record in `dataset`, under `consent` when one
    /// governs it (its purpose, id and remaining uses are recorded). Its `seq` is assigned by
    /// [`StateView::append_audit`].
    pub fn entry(
        &self,
        subject: SubjectId,
        dataset: &str,
        consent: Option<&ConsentArtefact>,
        outcome: AccessOutcome,
    ) -> AuditEntry {
        AuditEntry {
            seq: 0,
            subject,
            accessor: self.accessor,
            contract: self.contract.map(|(c, _)| c),
            code_hash: self.contract.map(|(_, h)| h),
            dataset: dataset.into(),
            purpose: consent
                .map(|c| c.request.purpose.clone())
                .unwrap_or_default(),
            consent: consent.map(|c| c.id),
            uses_left: consent.map(|c| c.uses_left()),
            kind: self.kind,
            outcome,
            tx_hash: self.tx_hash,
            height: self.block.height,
            time_ms: self.block.time_ms,
        }
    }

    /// One entry per dataset `consent` names, about its subject.
    pub fn entries_for_consent(
        &self,
        consent: &ConsentArtefact,
        outcome: AccessOutcome,
    ) -> Vec<AuditEntry> {
        consent
            .request
            .datasets
            .iter()
            .map(|d| self.entry(consent.request.subject, d, Some(consent), outcome))
            .collect()
    }
}

impl StateView {
    /// Registers a dataset and adds it to the index.
    pub fn put_dataset(&self, dataset: &Dataset) -> Result<(), StateError> {
        let mut index: Vec<String> = self.get_decoded(keys::DATASET_INDEX)?.unwrap_or_default();
        if !index.contains(&dataset.id) {
            index.push(dataset.id.clone());
        }
        self.put_encoded(keys::DATASET_INDEX.to_vec(), &index)?;
        self.put_encoded(keys::dataset(&dataset.id), dataset)
    }

    /// Every registered dataset id.
    pub fn dataset_ids(&self) -> Result<Vec<String>, StateError> {
        Ok(self.get_decoded(keys::DATASET_INDEX)?.unwrap_or_default())
    }

    /// A registered dataset.
    pub fn dataset(&self, id: &str) -> Result<Option<Dataset>, StateError> {
        self.get_decoded(&keys::dataset(id))
    }

    /// Every committed version of a subject's record in a dataset, oldest first.
    pub fn records(
        &self,
        subject: &SubjectId,
        dataset: &str,
    ) -> Result<Vec<StoredRecord>, StateError> {
        Ok(self
            .get_decoded(&keys::records(subject, dataset))?
            .unwrap_or_default())
    }

    /// The wallet account bound to a subject.
    pub fn identity(&self, subject: &SubjectId) -> Result<Option<AccountId>, StateError> {
        self.get_decoded(&keys::identity(subject))
    }

    /// The subject bound to a wallet account.
    pub fn subject_of(&self, account: &AccountId) -> Result<Option<SubjectId>, StateError> {
        self.get_decoded(&keys::identity_of(account))
    }

    /// A consent artefact.
    pub fn consent(&self, id: u64) -> Result<Option<ConsentArtefact>, StateError> {
        self.get_decoded(&keys::consent(id))
    }

    /// Ids stored under a list key.
    pub fn id_list(&self, key: &[u8]) -> Result<Vec<u64>, StateError> {
        Ok(self.get_decoded(key)?.unwrap_or_default())
    }

    /// Whether a regulator has approved the code hash (and not withdrawn it).
    pub fn code_approved(&self, code_hash: &Hash) -> Result<bool, StateError> {
        Ok(self
            .get_decoded::<CodeApproval>(&keys::code_approval(code_hash))?
            .is_some_and(|a| a.approved))
    }

    /// Number of audit entries of a subject.
    pub fn audit_len(&self, subject: &SubjectId) -> Result<u64, StateError> {
        Ok(self.get_decoded(&keys::audit_len(subject))?.unwrap_or(0))
    }

    /// Appends an entry to the subject's trail (and the institution's index); returns its seq.
    pub fn append_audit(&self, mut entry: AuditEntry) -> Result<u64, StateError> {
        let seq = self.audit_len(&entry.subject)?;
        entry.seq = seq;
        self.put_encoded(keys::audit(&entry.subject, seq), &entry)?;
        self.put_encoded(keys::audit_len(&entry.subject), &(seq + 1))?;
        let ilen_key = keys::institution_audit_len(&entry.accessor);
        let n: u64 = self.get_decoded(&ilen_key)?.unwrap_or(0);
        self.put_encoded(
            keys::institution_audit(&entry.accessor, n),
            &(entry.subject, seq),
        )?;
        self.put_encoded(ilen_key, &(n + 1))?;
        Ok(seq)
    }

    /// Moves `amount` credits; `false` (and no change) if `from` cannot pay.
    pub fn move_credits(
        &self,
        from: &AccountId,
        to: &AccountId,
        amount: u128,
    ) -> Result<bool, StateError> {
        if amount == 0 || from == to {
            return Ok(true);
        }
        let mut a = self.account(from)?;
        if a.balance < amount {
            return Ok(false);
        }
        let mut b = self.account(to)?;
        let Some(nb) = b.balance.checked_add(amount) else {
            return Ok(false);
        };
        a.balance -= amount;
        b.balance = nb;
        self.set_account(from, &a)?;
        self.set_account(to, &b)?;
        Ok(true)
    }
}

/// An access to decide: who wants which record of whom, how.
pub struct AccessQuery<'a> {
    /// The institution.
    pub institution: &'a AccountId,
    /// The citizen.
    pub subject: &'a SubjectId,
    /// Dataset id.
    pub dataset: &'a str,
    /// Compute or disclose.
    pub mode: ConsentMode,
    /// The running code (compute).
    pub code_hash: Option<&'a Hash>,
}

/// Picks the consent that governs `q` at block time `now_ms`.
///
/// Returns the usable consent, or the most specific refusal with the consent it concerns: a
/// consent that matches in everything but its status explains the refusal better than one for
/// another dataset or code. Consents already used by this call (`used`) stay usable for its
/// further reads even if that use exhausted them.
pub fn choose_consent(
    view: &StateView,
    q: &AccessQuery<'_>,
    now_ms: u64,
    used: &BTreeSet<u64>,
) -> Result<Result<ConsentArtefact, (RefusalReason, Option<ConsentArtefact>)>, StateError> {
    let AccessQuery {
        institution,
        subject,
        dataset,
        mode,
        code_hash,
    } = *q;
    let mut best: Option<(u8, RefusalReason, ConsentArtefact)> = None;
    for id in view.id_list(&keys::consents_of_subject(subject))? {
        let Some(c) = view.consent(id)? else { continue };
        if c.grantee != *institution {
            continue;
        }
        let (rank, reason) = if c.request.mode != mode {
            (1, RefusalReason::WrongMode)
        } else if !c.request.datasets.iter().any(|d| d == dataset) {
            (2, RefusalReason::DatasetNotConsented)
        } else if mode == ConsentMode::Compute && c.request.code_hash.as_ref() != code_hash {
            (3, RefusalReason::WrongCodeHash)
        } else {
            let status = c.status_at(now_ms);
            let reusable = used.contains(&c.id)
                && status == ConsentStatus::Exhausted
                && c.status == ConsentStatus::Active;
            match RefusalReason::for_status(status) {
                None => return Ok(Ok(c)),
                Some(_) if reusable => return Ok(Ok(c)),
                Some(r) => (4, r),
            }
        };
        if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
            best = Some((rank, reason, c));
        }
    }
    Ok(Err(match best {
        Some((_, reason, c)) => (reason, Some(c)),
        None => (RefusalReason::NoConsent, None),
    }))
}

/// The records a sealed call may read, decided before it runs: the declared (subject,
/// dataset) pairs that were granted, each with the record hash of its latest version.
pub type SealedGrants = BTreeMap<DeclaredRead, Hash>;

/// Decides a sealed call's declared reads before the contract runs, from committed state and
/// the declaration alone: for each declared pair in order, the code approval, the dataset, a
/// usable consent, a record and the price. A grant charges the dataset's price once and counts
/// one use of its consent (once per consent per call); every pair, granted or refused, gets
/// its audit entry. Whatever the contract later reads, these are the call's only public
/// effects, so none of them depends on the data.
pub fn grant_declared_reads(
    view: &StateView,
    audit: &AuditContext,
    institution: &AccountId,
    code_hash: &Hash,
    reads: &[DeclaredRead],
    now_ms: u64,
) -> Result<(SealedGrants, Vec<AuditEntry>), StateError> {
    let mut grants = SealedGrants::new();
    let mut entries = Vec::with_capacity(reads.len());
    let mut used = BTreeSet::new();
    let approved = view.code_approved(code_hash)?;
    for read in reads {
        let refuse = |reason, consent: Option<&ConsentArtefact>| {
            audit.entry(
                read.subject,
                &read.dataset,
                consent,
                AccessOutcome::Refused(reason),
            )
        };
        if !approved {
            entries.push(refuse(RefusalReason::CodeNotApproved, None));
            continue;
        }
        let Some(dataset) = view.dataset(&read.dataset)? else {
            entries.push(refuse(RefusalReason::UnknownDataset, None));
            continue;
        };
        let query = AccessQuery {
            institution,
            subject: &read.subject,
            dataset: &read.dataset,
            mode: ConsentMode::Compute,
            code_hash: Some(code_hash),
        };
        let mut consent = match choose_consent(view, &query, now_ms, &used)? {
            Ok(c) => c,
            Err((reason, c)) => {
                entries.push(refuse(reason, c.as_ref()));
                continue;
            }
        };
        let Some(record) = view.records(&read.subject, &read.dataset)?.pop() else {
            entries.push(refuse(RefusalReason::NoRecord, Some(&consent)));
            continue;
        };
        if !view.move_credits(institution, &dataset.custodian, dataset.price)? {
            entries.push(refuse(RefusalReason::InsufficientCredits, Some(&consent)));
            continue;
        }
        if used.insert(consent.id) {
            consent.uses += 1;
            view.put_encoded(keys::consent(consent.id), &consent)?;
        }
        entries.push(audit.entry(
            read.subject,
            &read.dataset,
            Some(&consent),
            AccessOutcome::Granted,
        ));
        grants.insert(read.clone(), record.record_hash);
    }
    Ok((grants, entries))
}

/// Payloads decrypted from this node's vault for one block's sealed calls, by record hash:
/// the block's calls share them, so each record is decrypted once per block however many of
/// its calls read it. A record hash names exactly one payload (the vault keeps records under
/// their hash, and they never change), so a kept payload is what decrypting again would give;
/// the committee drops them with the block's job context.
#[derive(Clone, Default)]
pub struct DecryptedRecords(Arc<Mutex<HashMap<Hash, Vec<u8>>>>);

impl DecryptedRecords {
    fn get(&self, record_hash: &Hash) -> Option<Vec<u8>> {
        self.0.lock().ok()?.get(record_hash).cloned()
    }

    fn keep(&self, record_hash: Hash, payload: &[u8]) {
        if let Ok(mut kept) = self.0.lock() {
            kept.insert(record_hash, payload.to_vec());
        }
    }
}

/// Serves a sealed call's reads from its grants: a granted pair's payload comes from the
/// vault; anything else gets the uniform refusal. It changes no state: every public effect
/// was settled by [`grant_declared_reads`].
pub struct GrantedSource {
    vault: Option<Vault>,
    contract: AccountId,
    code_hash: Hash,
    grants: SealedGrants,
    decrypted: DecryptedRecords,
}

impl GrantedSource {
    /// A source for one sealed call of `contract` running `code_hash`.
    pub fn new(
        vault: Option<Vault>,
        contract: AccountId,
        code_hash: Hash,
        grants: SealedGrants,
    ) -> Self {
        GrantedSource {
            vault,
            contract,
            code_hash,
            grants,
            decrypted: DecryptedRecords::default(),
        }
    }

    /// The source, sharing the payloads decrypted for its block's other calls.
    pub fn sharing(mut self, decrypted: DecryptedRecords) -> Self {
        self.decrypted = decrypted;
        self
    }
}

impl SealedSource for GrantedSource {
    fn sealed_read(&self, request: &SealedReadRequest) -> Result<SealedRead, StateError> {
        if request.contract != self.contract || request.code_hash != self.code_hash {
            return Ok(SealedRead::Refused);
        }
        let read = DeclaredRead {
            subject: request.subject,
            dataset: request.dataset.clone(),
        };
        let Some(record_hash) = self.grants.get(&read) else {
            return Ok(SealedRead::Refused);
        };
        if let Some(payload) = self.decrypted.get(record_hash) {
            return Ok(SealedRead::Granted(payload));
        }
        let vault = self.vault.as_ref().ok_or_else(|| {
            StateError::Backend("this node holds no vault: it cannot execute sealed reads".into())
        })?;
        let full = vault
            .record(record_hash)
            .map_err(|e| StateError::Backend(e.to_string()))?
            .ok_or_else(|| {
                StateError::Backend(format!(
                    "the vault lacks the payload of committed record {record_hash}"
                ))
            })?;
        self.decrypted.keep(*record_hash, &full.payload);
        Ok(SealedRead::Granted(full.payload))
    }
}
