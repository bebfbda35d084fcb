//! The data-access vocabulary: citizens ([`SubjectId`]), datasets and their schemas, records and
//! their public commitments, consent artefacts, audit entries, sealed-call results and signed
//! RPC requests. Pure data and hashing; the rules that use them live in the ledger.
use alloc::string::String;
use alloc::vec::Vec;
use parity_scale_codec::{Decode, Encode};
use scale_info::TypeInfo;

use crate::{sha3_256, AccountId, Hash};

/// A citizen: sha3 of her national id with the network's salt, never the id itself.
pub type SubjectId = Hash;

/// Domain of subject ids.
pub const SUBJECT_DOMAIN: &[u8] = b"civitas/subject/v1";
/// Domain of record hashes (what a department signs).
pub const RECORD_DOMAIN: &[u8] = b"civitas/record/v1";
/// Domain of signed RPC requests.
pub const REQUEST_DOMAIN: &[u8] = b"civitas/rpc-request/v1";
/// Domain of sealed-call output commitments.
pub const SEALED_OUTPUT_DOMAIN: &[u8] = b"civitas/sealed-output/v1";

/// Longest dataset id.
pub const MAX_DATASET_ID: usize = 64;
/// Most fields in a dataset schema.
pub const MAX_FIELDS: usize = 32;
/// Longest field name.
pub const MAX_FIELD_NAME: usize = 64;
/// Longest record payload.
pub const MAX_PAYLOAD: usize = 16 * 1024;
/// Longest consent purpose.
pub const MAX_PURPOSE: usize = 256;
/// Most datasets in one consent.
pub const MAX_CONSENT_DATASETS: usize = 16;
/// Most records a sealed call may declare.
pub const MAX_DECLARED_READS: usize = 32;
/// Largest value a sealed call may return.
pub const SEALED_OUTPUT_MAX: usize = 1024;
/// Size every sealed result is padded to before it is committed, so its length tells nothing.
pub const SEALED_RESULT_SIZE: usize = 2048;

/// The subject id of `national_id` on a network whose salt is `network_salt`.
pub fn subject_id(network_salt: &str, national_id: &str) -> SubjectId {
    let mut bytes = SUBJECT_DOMAIN.to_vec();
    (network_salt, national_id).encode_to(&mut bytes);
    sha3_256(&bytes)
}

/// The type of a dataset field. Payloads are the SCALE encoding of the fields in schema order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum FieldType {
    /// Unsigned 32-bit integer.
    U32,
    /// Unsigned 64-bit integer.
    U64,
    /// Unsigned 128-bit integer.
    U128,
    /// Signed 64-bit integer.
    I64,
    /// Boolean.
    Bool,
    /// UTF-8 text.
    Text,
}

/// Parses a field spec `name:type` (types: u32, u64, u128, i64, bool, text), as genesis files
/// and `civitas dataset register --field` write them.
pub fn parse_field(spec: &str) -> Result<Field, String> {
    use alloc::format;
    let (name, ty) = spec
        .split_once(':')
        .ok_or_else(|| format!("field `{spec}` is not `name:type`"))?;
    let ty = FieldType::parse(ty.trim()).ok_or_else(|| {
        format!("field `{name}`: unknown type `{ty}` (u32, u64, u128, i64, bool, text)")
    })?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("field `{spec}` has no name"));
    }
    Ok(Field {
        name: name.into(),
        ty,
    })
}

impl FieldType {
    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            FieldType::U32 => "u32",
            FieldType::U64 => "u64",
            FieldType::U128 => "u128",
            FieldType::I64 => "i64",
            FieldType::Bool => "bool",
            FieldType::Text => "text",
        }
    }
    /// Parses a lower-case name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "u32" => FieldType::U32,
            "u64" => FieldType::U64,
            "u128" => FieldType::U128,
            "i64" => FieldType::I64,
            "bool" => FieldType::Bool,
            "text" | "string" => FieldType::Text,
            _ => return None,
        })
    }
}

/// One field of a dataset schema.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: FieldType,
}

/// A registered dataset.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Dataset {
    /// Id such as `tax.annual_income`.
    pub id: String,
    /// The department that holds its records.
    pub custodian: AccountId,
    /// Field schema.
    pub fields: Vec<Field>,
    /// Credits an institution pays the custodian per sealed read or disclosure.
    pub price: u128,
}

/// Whether `id` is a well-formed dataset id: lower-case letters, digits, `_`, `-` and `.`.
pub fn valid_dataset_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_DATASET_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b))
}

/// Checks that `payload` is exactly the SCALE encoding of `fields` (no trailing bytes).
pub fn check_payload(fields: &[Field], payload: &[u8]) -> Result<(), String> {
    let mut input = payload;
    for f in fields {
        let ok = match f.ty {
            FieldType::U32 => u32::decode(&mut input).is_ok(),
            FieldType::U64 => u64::decode(&mut input).is_ok(),
            FieldType::U128 => u128::decode(&mut input).is_ok(),
            FieldType::I64 => i64::decode(&mut input).is_ok(),
            FieldType::Bool => bool::decode(&mut input).is_ok(),
            FieldType::Text => String::decode(&mut input).is_ok(),
        };
        if !ok {
            return Err(alloc::format!(
                "field `{}` is not a SCALE-encoded {}",
                f.name,
                f.ty.name()
            ));
        }
    }
    if !input.is_empty() {
        return Err(alloc::format!("{} bytes after the last field", input.len()));
    }
    Ok(())
}

/// `sha3_256(RECORD_DOMAIN || scale(subject, dataset, version, salt, sha3(payload)))`: the salted
/// commitment a department signs. The salt stops anyone from confirming a guessed payload.
pub fn record_hash(
    subject: &SubjectId,
    dataset: &str,
    version: u32,
    salt: &[u8; 32],
    payload: &[u8],
) -> Hash {
    let mut bytes = RECORD_DOMAIN.to_vec();
    (subject, dataset, version, salt, sha3_256(payload)).encode_to(&mut bytes);
    sha3_256(&bytes)
}

/// A citizen's record as the department signed it. Kept verbatim, encrypted at rest, on
/// custodian nodes only; the chain holds its [`RecordCommitment`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Record {
    /// Whose record.
    pub subject: SubjectId,
    /// Dataset id.
    pub dataset: String,
    /// Version (1, 2, …; a correction is a new version).
    pub version: u32,
    /// Random salt of the commitment.
    pub salt: [u8; 32],
    /// The fields, SCALE-encoded in schema order.
    pub payload: Vec<u8>,
    /// The department that signed it.
    pub custodian: AccountId,
    /// ed25519 signature of the custodian over [`Record::hash`].
    pub signature: [u8; 64],
}

impl Record {
    /// The salted commitment.
    pub fn hash(&self) -> Hash {
        record_hash(
            &self.subject,
            &self.dataset,
            self.version,
            &self.salt,
            &self.payload,
        )
    }
    /// The public part.
    pub fn commitment(&self) -> RecordCommitment {
        RecordCommitment {
            subject: self.subject,
            dataset: self.dataset.clone(),
            version: self.version,
            record_hash: self.hash(),
            custodian: self.custodian,
            signature: self.signature,
        }
    }
}

/// What the public chain knows about a record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct RecordCommitment {
    /// Whose record.
    pub subject: SubjectId,
    /// Dataset id.
    pub dataset: String,
    /// Version.
    pub version: u32,
    /// Salted hash of the record.
    pub record_hash: Hash,
    /// Signing department.
    pub custodian: AccountId,
    /// The department's signature over `record_hash`.
    pub signature: [u8; 64],
}

/// What a consent allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum ConsentMode {
    /// A named contract may compute over the records inside a sealed call.
    Compute,
    /// The institution may download the records.
    Disclose,
}

/// Where a consent stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum ConsentStatus {
    /// Filed, awaiting the citizen.
    Pending,
    /// Approved and usable.
    Active,
    /// Suspended by the citizen; she may resume it.
    Paused,
    /// Withdrawn by the citizen.
    Revoked,
    /// Past its expiry (judged by block time).
    Expired,
    /// Every allowed use spent.
    Exhausted,
    /// Refused by the citizen.
    Rejected,
}

impl ConsentStatus {
    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            ConsentStatus::Pending => "pending",
            ConsentStatus::Active => "active",
            ConsentStatus::Paused => "paused",
            ConsentStatus::Revoked => "revoked",
            ConsentStatus::Expired => "expired",
            ConsentStatus::Exhausted => "exhausted",
            ConsentStatus::Rejected => "rejected",
        }
    }
}

/// What a citizen does to a consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum ConsentAction {
    /// Pending → Active.
    Approve,
    /// Pending → Rejected.
    Reject,
    /// Active → Paused.
    Pause,
    /// Paused → Active.
    Resume,
    /// Pending, Active or Paused → Revoked.
    Revoke,
}

impl ConsentAction {
    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            ConsentAction::Approve => "approve",
            ConsentAction::Reject => "reject",
            ConsentAction::Pause => "pause",
            ConsentAction::Resume => "resume",
            ConsentAction::Revoke => "revoke",
        }
    }
}

/// What an institution asks a citizen for.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ConsentRequest {
    /// The citizen.
    pub subject: SubjectId,
    /// Dataset ids.
    pub datasets: Vec<String>,
    /// Why, in words the citizen reads.
    pub purpose: String,
    /// Compute or disclose.
    pub mode: ConsentMode,
    /// The contract code allowed to compute (compute mode only).
    pub code_hash: Option<Hash>,
    /// Block time (ms) from which the consent is expired.
    pub expires_ms: u64,
    /// Uses allowed (a sealed call or a disclosure is one use).
    pub max_uses: u32,
}

/// A record a sealed call declares it may read: the latest version of `subject`'s record in
/// `dataset`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Encode, Decode, TypeInfo)]
pub struct DeclaredRead {
    /// The citizen.
    pub subject: SubjectId,
    /// Dataset id.
    pub dataset: String,
}

/// One status change of a consent.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ConsentChange {
    /// New status.
    pub status: ConsentStatus,
    /// Block height.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
}

/// A consent artefact: the request, who filed it, its uses and its history.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ConsentArtefact {
    /// Id.
    pub id: u64,
    /// The institution it is granted to.
    pub grantee: AccountId,
    /// What was asked.
    pub request: ConsentRequest,
    /// Uses spent.
    pub uses: u32,
    /// Stored status (before expiry and exhaustion are applied; see [`Self::status_at`]).
    pub status: ConsentStatus,
    /// Every change, oldest first (the first is the filing).
    pub history: Vec<ConsentChange>,
}

impl ConsentArtefact {
    /// The status at block time `now_ms`: a usable consent past its expiry is Expired, one with
    /// no uses left is Exhausted.
    pub fn status_at(&self, now_ms: u64) -> ConsentStatus {
        match self.status {
            ConsentStatus::Pending | ConsentStatus::Active | ConsentStatus::Paused
                if now_ms >= self.request.expires_ms =>
            {
                ConsentStatus::Expired
            }
            ConsentStatus::Active | ConsentStatus::Paused if self.uses >= self.request.max_uses => {
                ConsentStatus::Exhausted
            }
            s => s,
        }
    }
    /// Uses left.
    pub fn uses_left(&self) -> u32 {
        self.request.max_uses.saturating_sub(self.uses)
    }
}

/// Why an access was refused. Recorded in the audit trail; the contract sees one uniform error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum RefusalReason {
    /// The code hash is not approved by a regulator.
    CodeNotApproved,
    /// No consent of this institution for this subject.
    NoConsent,
    /// The consents found do not name this dataset.
    DatasetNotConsented,
    /// The consents found name another contract code.
    WrongCodeHash,
    /// The consent found is for another mode (compute vs disclose).
    WrongMode,
    /// The consent is still pending.
    Pending,
    /// The consent was rejected.
    Rejected,
    /// The consent is paused.
    Paused,
    /// The consent was revoked.
    Revoked,
    /// The consent is past its expiry.
    Expired,
    /// The consent has no uses left.
    Exhausted,
    /// No record of the dataset for this subject.
    NoRecord,
    /// The institution cannot pay the dataset's price.
    InsufficientCredits,
    /// The dataset is not registered.
    UnknownDataset,
}

impl RefusalReason {
    /// Stable snake-case code.
    pub const fn code(self) -> &'static str {
        match self {
            RefusalReason::CodeNotApproved => "code_not_approved",
            RefusalReason::NoConsent => "no_consent",
            RefusalReason::DatasetNotConsented => "dataset_not_consented",
            RefusalReason::WrongCodeHash => "wrong_code_hash",
            RefusalReason::WrongMode => "wrong_mode",
            RefusalReason::Pending => "consent_pending",
            RefusalReason::Rejected => "consent_rejected",
            RefusalReason::Paused => "consent_paused",
            RefusalReason::Revoked => "consent_revoked",
            RefusalReason::Expired => "consent_expired",
            RefusalReason::Exhausted => "consent_exhausted",
            RefusalReason::NoRecord => "no_record",
            RefusalReason::InsufficientCredits => "insufficient_credits",
            RefusalReason::UnknownDataset => "unknown_dataset",
        }
    }
    /// The refusal for a consent in `status` (None when the status allows use).
    pub fn for_status(status: ConsentStatus) -> Option<Self> {
        Some(match status {
            ConsentStatus::Active => return None,
            ConsentStatus::Pending => RefusalReason::Pending,
            ConsentStatus::Paused => RefusalReason::Paused,
            ConsentStatus::Revoked => RefusalReason::Revoked,
            ConsentStatus::Expired => RefusalReason::Expired,
            ConsentStatus::Exhausted => RefusalReason::Exhausted,
            ConsentStatus::Rejected => RefusalReason::Rejected,
        })
    }
}

/// How data was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum AccessKind {
    /// A contract read a record inside a sealed call.
    SealedRead,
    /// An institution was granted the records for download.
    Disclosure,
}

/// The result of an access attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum AccessOutcome {
    /// Allowed: the price was paid and a use counted.
    Granted,
    /// Refused, and why.
    Refused(RefusalReason),
}

impl AccessKind {
    /// Stable snake-case name, as clients show it.
    pub const fn name(self) -> &'static str {
        match self {
            AccessKind::SealedRead => "sealed_read",
            AccessKind::Disclosure => "disclosure",
        }
    }
}

impl AccessOutcome {
    /// `granted`, or `refused: <reason code>`, as clients show it.
    pub fn label(self) -> String {
        match self {
            AccessOutcome::Granted => "granted".into(),
            AccessOutcome::Refused(r) => alloc::format!("refused: {}", r.code()),
        }
    }
}

/// One line of a citizen's audit trail. Never holds record content.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct AuditEntry {
    /// Position in the subject's trail (0, 1, …).
    pub seq: u64,
    /// Whose data.
    pub subject: SubjectId,
    /// The institution.
    pub accessor: AccountId,
    /// The contract (sealed reads).
    pub contract: Option<AccountId>,
    /// Its code hash (sealed reads).
    pub code_hash: Option<Hash>,
    /// Dataset id.
    pub dataset: String,
    /// The consent's purpose (empty when there was no consent).
    pub purpose: String,
    /// The consent used or examined.
    pub consent: Option<u64>,
    /// Uses left on that consent afterwards.
    pub uses_left: Option<u32>,
    /// Sealed read or disclosure.
    pub kind: AccessKind,
    /// Granted or refused.
    pub outcome: AccessOutcome,
    /// The transaction.
    pub tx_hash: Hash,
    /// Block height.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
}

/// What a sealed call produced, known only to the institution and the subject. Padded to
/// [`SEALED_RESULT_SIZE`] before it is hashed or stored.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SealedResult {
    /// Whether the contract returned normally.
    pub ok: bool,
    /// Its return value, or its revert data when it reverted: the call's one output channel,
    /// at most [`SEALED_OUTPUT_MAX`] bytes either way.
    pub output: Vec<u8>,
    /// Stable error code when it failed (no text: the result is hashed into a receipt).
    pub error_code: String,
}

impl SealedResult {
    /// The encoding padded with zeros to [`SEALED_RESULT_SIZE`] (longer encodings are cut,
    /// which the runtime's output cap makes impossible).
    pub fn padded(&self) -> Vec<u8> {
        let mut bytes = self.encode();
        bytes.resize(SEALED_RESULT_SIZE, 0);
        bytes
    }
    /// Decodes a padded result (trailing zeros ignored).
    pub fn from_padded(bytes: &[u8]) -> Option<Self> {
        SealedResult::decode(&mut &bytes[..]).ok()
    }
}

/// Domain of the per-call salt of a sealed output hash.
pub const SEALED_SALT_DOMAIN: &[u8] = b"civitas/sealed-salt/v1";

/// The salt of a sealed call's output hash: `sha3(domain || chain sealing key || tx hash)`.
/// Only the nodes that execute sealed calls hold the key, so no outsider can test a predicted
/// outcome (a refusal, an error, an empty result) against the receipt; the salt depends on the
/// transaction alone, never on the data.
pub fn sealed_output_salt(sealing_key: &[u8; 32], tx_hash: &Hash) -> Hash {
    let mut bytes = SEALED_SALT_DOMAIN.to_vec();
    bytes.extend_from_slice(sealing_key);
    bytes.extend_from_slice(&tx_hash.0);
    sha3_256(&bytes)
}

/// The public commitment to a sealed result: `sha3(domain || salt || padded result)`, with
/// the salt of [`sealed_output_salt`].
pub fn sealed_output_hash(salt: &Hash, padded: &[u8]) -> Hash {
    let mut bytes = SEALED_OUTPUT_DOMAIN.to_vec();
    bytes.extend_from_slice(&salt.0);
    bytes.extend_from_slice(padded);
    sha3_256(&bytes)
}

/// A request for personal data, signed by the asking account. Replay-proof: the node refuses a
/// request issued too long ago and any `(signer, nonce)` it has seen.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SignedRequest {
    /// The RPC method it is for.
    pub method: String,
    /// SCALE-encoded method parameters.
    pub body: Vec<u8>,
    /// Who asks.
    pub signer: AccountId,
    /// When it was made (ms since the Unix epoch, the client's clock).
    pub issued_ms: u64,
    /// Random number used once.
    pub nonce: u64,
    /// ed25519 signature over [`SignedRequest::signing_hash`].
    pub signature: [u8; 64],
}

impl SignedRequest {
    /// `sha3_256(REQUEST_DOMAIN || scale(method, body, signer, issued_ms, nonce))`.
    pub fn signing_hash(&self) -> Hash {
        let mut bytes = REQUEST_DOMAIN.to_vec();
        (
            &self.method,
            &self.body,
            &self.signer,
            self.issued_ms,
            self.nonce,
        )
            .encode_to(&mut bytes);
        sha3_256(&bytes)
    }
}

/// Body of `audit_listBySubject`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SubjectAuditQuery {
    /// The citizen.
    pub subject: SubjectId,
    /// First sequence number.
    pub from: u64,
    /// Most entries.
    pub limit: u32,
}

/// Body of `audit_listByInstitution` (regulators).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct InstitutionAuditQuery {
    /// The institution.
    pub institution: AccountId,
    /// First position in its trail.
    pub from: u64,
    /// Most entries.
    pub limit: u32,
}

/// Body of `vault_fetchDisclosed` and `vault_getSealedOutput`: which transaction, and the
/// x25519 key to encrypt the reply to.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SealedFetch {
    /// The disclosure or sealed-call transaction.
    pub tx_hash: Hash,
    /// The requester's one-time x25519 public key.
    pub reply_key: [u8; 32],
}

/// A reply encrypted to a requester's x25519 key (XChaCha20-Poly1305 box).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Envelope {
    /// The sender's one-time x25519 public key.
    pub sender_key: [u8; 32],
    /// 24-byte nonce.
    pub nonce: [u8; 24],
    /// Ciphertext with tag.
    pub ciphertext: Vec<u8>,
}

/// What `vault_fetchDisclosed` returns inside its envelope.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct DisclosedRecords {
    /// The consent.
    pub consent: u64,
    /// The records, verbatim.
    pub records: Vec<Record>,
}

/// What `vault_getSealedOutput` returns inside its envelope.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SealedOutputReply {
    /// The result.
    pub result: SealedResult,
    /// The salt of the receipt's output hash, to check it.
    pub salt: Hash,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_hash_is_salted_and_covers_every_field() {
        let s = subject_id("net", "123");
        let a = record_hash(&s, "tax.income", 1, &[0; 32], b"x");
        assert_ne!(a, record_hash(&s, "tax.income", 1, &[1; 32], b"x"));
        assert_ne!(a, record_hash(&s, "tax.income", 2, &[0; 32], b"x"));
        assert_ne!(a, record_hash(&s, "tax.incomes", 1, &[0; 32], b"x"));
        assert_ne!(a, record_hash(&s, "tax.income", 1, &[0; 32], b"y"));
        assert_ne!(s, subject_id("other", "123"));
    }

    #[test]
    fn consent_status_applies_expiry_and_exhaustion() {
        let mut c = ConsentArtefact {
            id: 1,
            grantee: AccountId([1; 32]),
            request: ConsentRequest {
                subject: Hash([2; 32]),
                datasets: alloc::vec!["a".into()],
                purpose: "p".into(),
                mode: ConsentMode::Compute,
                code_hash: None,
                expires_ms: 1_000,
                max_uses: 2,
            },
            uses: 0,
            status: ConsentStatus::Active,
            history: Vec::new(),
        };
        assert_eq!(c.status_at(999), ConsentStatus::Active);
        assert_eq!(c.status_at(1_000), ConsentStatus::Expired);
        c.uses = 2;
        assert_eq!(c.status_at(10), ConsentStatus::Exhausted);
        c.status = ConsentStatus::Revoked;
        assert_eq!(c.status_at(5_000), ConsentStatus::Revoked);
    }

    #[test]
    fn sealed_results_pad_to_one_size() {
        let short = SealedResult {
            ok: true,
            output: alloc::vec![1],
            error_code: String::new(),
        };
        let long = SealedResult {
            output: alloc::vec![7; SEALED_OUTPUT_MAX],
            ..short.clone()
        };
        assert_eq!(short.padded().len(), long.padded().len());
        assert_eq!(SealedResult::from_padded(&long.padded()), Some(long));
        assert!(valid_dataset_id("tax.annual_income") && !valid_dataset_id("Tax income"));
    }
}

/// Most consents one `consent_list` page holds.
pub const MAX_CONSENT_PAGE: u32 = 500;

/// Body of `consent_list` (an empty body asks for the first page of [`MAX_CONSENT_PAGE`]).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ConsentListQuery {
    /// The page starts after this consent id (`None`: from the first).
    pub after: Option<u64>,
    /// Most consents (1 to [`MAX_CONSENT_PAGE`]).
    pub limit: u32,
}
