//! Transactions: what an account asks the chain to do. A [`Transaction`] is SCALE-encoded and
//! signed over `sha3_256(TX_DOMAIN || bytes)`; every variable-length field has a limit checked
//! by [`SignedTransaction::decode_checked`], so a hostile peer cannot make a node allocate or
//! store more than the limits allow.
use alloc::string::String;
use alloc::vec::Vec;
use parity_scale_codec::{Decode, DecodeAll, Encode};
use scale_info::TypeInfo;

use crate::vault::Envelope;
use crate::vault::{
    valid_dataset_id, ConsentAction, ConsentRequest, DeclaredRead, Field, SubjectId,
    MAX_CONSENT_DATASETS, MAX_DECLARED_READS, MAX_FIELDS, MAX_FIELD_NAME, MAX_PURPOSE,
};
use crate::{sha3_256, AccountId, Hash};

/// Signing domain of transactions.
pub const TX_DOMAIN: &[u8] = b"civitas/tx/v1";
/// Largest encoded signed transaction.
pub const MAX_TX_BYTES: usize = 600 * 1024;
/// Largest chain id.
pub const MAX_CHAIN_ID: usize = 64;
/// Largest call input or constructor input.
pub const MAX_INPUT: usize = 64 * 1024;
/// Largest contract module in a transaction.
pub const MAX_CODE: usize = 512 * 1024;
/// Largest instantiation salt.
pub const MAX_SALT: usize = 64;

/// A permissioned role. Accounts may hold several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, TypeInfo)]
pub enum Role {
    /// A department running a validator node; departments vote on governance.
    Validator,
    /// A department or hospital that holds citizens' records.
    Custodian,
    /// A bank, insurer or other institution that runs contracts.
    Institution,
    /// Approves contract code for sealed data access; reads the aggregate audit trail.
    Regulator,
    /// A department that binds citizens' wallet keys to their subject ids.
    Identity,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 5] = [
        Role::Validator,
        Role::Custodian,
        Role::Institution,
        Role::Regulator,
        Role::Identity,
    ];

    /// The bit of this role in a role set.
    pub const fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Role::Validator => "validator",
            Role::Custodian => "custodian",
            Role::Institution => "institution",
            Role::Regulator => "regulator",
            Role::Identity => "identity",
        }
    }
}

/// A set of roles as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct RoleSet(pub u8);

impl RoleSet {
    /// The set holding `roles`.
    pub fn of(roles: &[Role]) -> Self {
        RoleSet(roles.iter().fold(0, |acc, r| acc | r.bit()))
    }
    /// Whether `role` is in the set.
    pub fn has(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }
    /// Whether the set holds no role.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Whether the sets share a role.
    pub fn intersects(self, other: RoleSet) -> bool {
        self.0 & other.0 != 0
    }
    /// The set with `role` added.
    pub fn with(self, role: Role) -> Self {
        RoleSet(self.0 | role.bit())
    }
    /// The set with `role` removed.
    pub fn without(self, role: Role) -> Self {
        RoleSet(self.0 & !role.bit())
    }
}

/// A change that needs the approval of `m` of the departments (validators).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum GovernanceAction {
    /// Gives `account` a role.
    GrantRole {
        /// Account.
        account: AccountId,
        /// Role.
        role: Role,
    },
    /// Takes a role away.
    RevokeRole {
        /// Account.
        account: AccountId,
        /// Role.
        role: Role,
    },
    /// Which roles may upload code and which may instantiate it.
    SetDeployPolicy {
        /// Roles that may upload code.
        upload: RoleSet,
        /// Roles that may instantiate contracts.
        instantiate: RoleSet,
    },
    /// The number of approvals a proposal needs.
    SetThreshold {
        /// Approvals needed.
        threshold: u32,
    },
    /// Names the sealed-compute committee and its attestation threshold.
    SetSealedCommittee {
        /// The committee.
        committee: crate::committee::SealedCommittee,
    },
    /// The fee price: credits per million fuel units a transaction uses (0: no fees).
    SetFuelPrice {
        /// Credits per 10^6 fuel.
        credits_per_million_fuel: u128,
    },
}

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Call {
    /// Stores a contract module under its sha3-256 hash.
    UploadCode {
        /// Module bytes.
        code: Vec<u8>,
    },
    /// Creates a contract at `contract_address(signer, code_hash, salt)` and runs its constructor.
    Instantiate {
        /// Code to run.
        code_hash: Hash,
        /// Salt for the address.
        salt: Vec<u8>,
        /// Constructor selector + arguments.
        input: Vec<u8>,
    },
    /// Calls a contract.
    Call {
        /// Contract address.
        contract: AccountId,
        /// Selector + arguments.
        input: Vec<u8>,
    },
    /// Points a contract at new code (the contract's admin only).
    Upgrade {
        /// Contract.
        contract: AccountId,
        /// New code.
        code_hash: Hash,
    },
    /// Moves credits.
    Transfer {
        /// Recipient.
        to: AccountId,
        /// Amount.
        amount: u128,
    },
    /// Files a governance proposal (departments only); counts as the proposer's approval.
    Propose {
        /// The change.
        action: GovernanceAction,
    },
    /// Approves a pending proposal (departments only).
    Approve {
        /// Proposal id.
        proposal: u64,
    },
    /// Binds a citizen's wallet key to her subject id (identity departments only).
    BindIdentity {
        /// The citizen.
        subject: SubjectId,
        /// Her wallet key.
        account: AccountId,
    },
    /// Registers a dataset held by the signing custodian.
    RegisterDataset {
        /// Id such as `tax.annual_income`.
        id: String,
        /// Field schema.
        fields: Vec<Field>,
        /// Credits per sealed read or disclosure.
        price: u128,
    },
    /// Commits a record the signing custodian holds: only its salted hash and signature go on
    /// chain; the payload reaches custodian nodes through `vault_putRecords`.
    CommitRecord {
        /// Whose record.
        subject: SubjectId,
        /// Dataset id.
        dataset: String,
        /// Version: one more than the last committed.
        version: u32,
        /// Salted record hash.
        record_hash: Hash,
        /// The custodian's signature over `record_hash`.
        signature: [u8; 64],
    },
    /// Files a consent request (institutions only).
    RequestConsent {
        /// What is asked.
        request: ConsentRequest,
    },
    /// The citizen's answer to a consent (her bound wallet key only).
    Consent {
        /// Consent id.
        id: u64,
        /// What she does.
        action: ConsentAction,
    },
    /// Approves or withdraws a code hash for sealed data access (regulators only).
    ApproveCode {
        /// Code hash.
        code_hash: Hash,
        /// `true` approves, `false` withdraws.
        approved: bool,
    },
    /// Calls a contract in sealed mode (institutions only): it may read the consented records
    /// it declares; it writes no state, emits nothing, and its result reaches only the
    /// institution (and the subject, when it declares a single one).
    SealedCall {
        /// Contract address.
        contract: AccountId,
        /// Selector + arguments.
        input: Vec<u8>,
        /// The records it may read. Charging, consent uses and audit entries follow from this
        /// declaration alone, before the contract runs; a read outside it is refused.
        reads: Vec<DeclaredRead>,
    },
    /// Uses a disclose-mode consent: once committed, the institution may download the records.
    Disclose {
        /// Consent id.
        consent: u64,
    },
    /// A call of a [`PrivateKind`] whose body is encrypted to the chain access key, which the
    /// validators hold: blocks carry only the kind and the ciphertext, which opens to a
    /// [`PrivateBody`]. Calls of those kinds are admitted only in this form.
    Private {
        /// What the body is (admission needs it: roles, fuel cap).
        kind: PrivateKind,
        /// The encrypted [`PrivateBody`].
        body: Envelope,
    },
    /// A sealed-compute committee member's output hashes of committed sealed calls.
    AttestSealedOutputs {
        /// One per call.
        attestations: Vec<crate::committee::SealedAttestation>,
    },
}

/// The kinds of call that concern a person's data (who is bound to which key, whose record
/// was committed, who asked for or gave consent, who computed over or received whose data):
/// their bodies travel encrypted ([`Call::Private`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum PrivateKind {
    /// [`Call::BindIdentity`].
    BindIdentity,
    /// [`Call::CommitRecord`].
    CommitRecord,
    /// [`Call::RequestConsent`].
    RequestConsent,
    /// [`Call::Consent`].
    Consent,
    /// [`Call::SealedCall`].
    SealedCall,
    /// [`Call::Disclose`].
    Disclose,
}

impl PrivateKind {
    /// The private kind of a plain call, if it is one.
    pub fn of(call: &Call) -> Option<Self> {
        Some(match call {
            Call::BindIdentity { .. } => PrivateKind::BindIdentity,
            Call::CommitRecord { .. } => PrivateKind::CommitRecord,
            Call::RequestConsent { .. } => PrivateKind::RequestConsent,
            Call::Consent { .. } => PrivateKind::Consent,
            Call::SealedCall { .. } => PrivateKind::SealedCall,
            Call::Disclose { .. } => PrivateKind::Disclose,
            _ => return None,
        })
    }

    /// The kind's name, as [`Call::kind`] gives it.
    pub const fn name(self) -> &'static str {
        match self {
            PrivateKind::BindIdentity => "bind_identity",
            PrivateKind::CommitRecord => "commit_record",
            PrivateKind::RequestConsent => "request_consent",
            PrivateKind::Consent => "consent",
            PrivateKind::SealedCall => "sealed_call",
            PrivateKind::Disclose => "disclose",
        }
    }
}

/// Signing-free binding of a private body to its transaction: the plaintext of
/// [`Call::Private`]'s envelope. A body copied into another account's transaction, or replayed
/// under another nonce or chain, does not open as that transaction's call.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct PrivateBody {
    /// The transaction's chain.
    pub chain_id: String,
    /// The transaction's signer.
    pub signer: AccountId,
    /// The transaction's nonce.
    pub nonce: u64,
    /// The plain call, of the envelope's kind.
    pub call: Call,
}

/// Why a private call does not open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrivateCallError {
    /// The envelope does not decrypt with the chain access key.
    Undecryptable,
    /// The plaintext is not a SCALE-encoded [`PrivateBody`].
    Malformed,
    /// The body is bound to another chain, signer or nonce.
    NotThisTransaction,
    /// The body's call is not of the declared kind.
    KindMismatch {
        /// The declared kind.
        declared: &'static str,
    },
    /// The body's call breaks a field limit.
    Format(TxFormatError),
}

impl core::fmt::Display for PrivateCallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PrivateCallError::Undecryptable => {
                f.write_str("the private body does not decrypt with the chain access key")
            }
            PrivateCallError::Malformed => f.write_str("the private body does not decode"),
            PrivateCallError::NotThisTransaction => f.write_str(
                "the private body is bound to another chain, signer or nonce than its transaction",
            ),
            PrivateCallError::KindMismatch { declared } => {
                write!(f, "the private body is not a {declared} call")
            }
            PrivateCallError::Format(e) => write!(f, "the private body: {e}"),
        }
    }
}

impl PrivateBody {
    /// Decodes an opened envelope's plaintext as the body of `tx`'s private call of `kind`,
    /// checking the binding, the kind and the field limits.
    pub fn decode_for(
        plaintext: &[u8],
        tx: &Transaction,
        kind: PrivateKind,
    ) -> Result<Call, PrivateCallError> {
        let body = PrivateBody::decode_all(&mut &plaintext[..])
            .map_err(|_| PrivateCallError::Malformed)?;
        if body.chain_id != tx.chain_id || body.signer != tx.signer || body.nonce != tx.nonce {
            return Err(PrivateCallError::NotThisTransaction);
        }
        if PrivateKind::of(&body.call) != Some(kind) {
            return Err(PrivateCallError::KindMismatch {
                declared: kind.name(),
            });
        }
        check_call_limits(&body.call).map_err(PrivateCallError::Format)?;
        Ok(body.call)
    }
}

impl Call {
    /// A short name for logs and receipts.
    pub fn kind(&self) -> &'static str {
        match self {
            Call::UploadCode { .. } => "upload_code",
            Call::Instantiate { .. } => "instantiate",
            Call::Call { .. } => "call",
            Call::Upgrade { .. } => "upgrade",
            Call::Transfer { .. } => "transfer",
            Call::Propose { .. } => "propose",
            Call::Approve { .. } => "approve",
            Call::BindIdentity { .. } => "bind_identity",
            Call::RegisterDataset { .. } => "register_dataset",
            Call::CommitRecord { .. } => "commit_record",
            Call::RequestConsent { .. } => "request_consent",
            Call::Consent { .. } => "consent",
            Call::ApproveCode { .. } => "approve_code",
            Call::SealedCall { .. } => "sealed_call",
            Call::Disclose { .. } => "disclose",
            Call::Private { kind, .. } => kind.name(),
            Call::AttestSealedOutputs { .. } => "attest_sealed_outputs",
        }
    }
}

/// An unsigned transaction.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Transaction {
    /// The chain this transaction is for (replay protection across chains).
    pub chain_id: String,
    /// The signing account.
    pub signer: AccountId,
    /// The signer's next nonce (strict: replays and gaps are refused).
    pub nonce: u64,
    /// Fuel the signer allows this transaction to use.
    pub fuel_limit: u64,
    /// What to do.
    pub call: Call,
}

impl Transaction {
    /// The 32-byte message that is signed: `sha3_256(TX_DOMAIN || scale(self))`.
    pub fn signing_hash(&self) -> Hash {
        let mut bytes = TX_DOMAIN.to_vec();
        self.encode_to(&mut bytes);
        sha3_256(&bytes)
    }
}

/// A transaction with its ed25519 signature.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// ed25519 signature over [`Transaction::signing_hash`].
    pub signature: [u8; 64],
}

/// Why transaction bytes were refused before execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxFormatError {
    /// More bytes than [`MAX_TX_BYTES`].
    TooLarge {
        /// Size.
        size: usize,
    },
    /// Not a SCALE-encoded signed transaction (or trailing bytes).
    Undecodable,
    /// A dataset id that is empty, too long, or not lower-case letters, digits, `_-.`.
    BadDatasetId,
    /// A sealed call declares the same (subject, dataset) twice.
    DuplicateDeclaredRead,
    /// A field over its limit.
    FieldTooLarge {
        /// Field name.
        field: &'static str,
        /// Size.
        size: usize,
        /// Limit.
        max: usize,
    },
}

impl core::fmt::Display for TxFormatError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TxFormatError::TooLarge { size } => {
                write!(
                    f,
                    "transaction is {size} bytes; the limit is {MAX_TX_BYTES}"
                )
            }
            TxFormatError::Undecodable => {
                f.write_str("bytes are not a SCALE-encoded signed transaction")
            }
            TxFormatError::BadDatasetId => f.write_str(
                "a dataset id must be 1-64 characters of lower-case letters, digits, `_`, `-`, `.`",
            ),
            TxFormatError::DuplicateDeclaredRead => {
                f.write_str("a sealed call declares the same subject and dataset twice")
            }
            TxFormatError::FieldTooLarge { field, size, max } => {
                write!(f, "{field} is {size} bytes; the limit is {max}")
            }
        }
    }
}

fn limit(field: &'static str, size: usize, max: usize) -> Result<(), TxFormatError> {
    if size > max {
        return Err(TxFormatError::FieldTooLarge { field, size, max });
    }
    Ok(())
}

fn dataset_id(id: &str) -> Result<(), TxFormatError> {
    if valid_dataset_id(id) {
        Ok(())
    } else {
        Err(TxFormatError::BadDatasetId)
    }
}

impl SignedTransaction {
    /// The transaction hash: sha3-256 of the signed encoding.
    pub fn hash(&self) -> Hash {
        sha3_256(&self.encode())
    }

    /// Decodes and checks every size limit. Signature and state checks come later.
    pub fn decode_checked(bytes: &[u8]) -> Result<Self, TxFormatError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(TxFormatError::TooLarge { size: bytes.len() });
        }
        let stx = SignedTransaction::decode_all(&mut &bytes[..])
            .map_err(|_| TxFormatError::Undecodable)?;
        stx.check_limits()?;
        Ok(stx)
    }

    /// Checks every field against its limit.
    pub fn check_limits(&self) -> Result<(), TxFormatError> {
        limit("chain id", self.tx.chain_id.len(), MAX_CHAIN_ID)?;
        check_call_limits(&self.tx.call)
    }
}

/// Checks every field of a call against its limit.
fn check_call_limits(call: &Call) -> Result<(), TxFormatError> {
    match call {
        Call::UploadCode { code } => limit("code", code.len(), MAX_CODE),
        Call::Instantiate { salt, input, .. } => {
            limit("salt", salt.len(), MAX_SALT)?;
            limit("input", input.len(), MAX_INPUT)
        }
        Call::Call { input, .. } => limit("input", input.len(), MAX_INPUT),
        Call::SealedCall { input, reads, .. } => {
            limit("input", input.len(), MAX_INPUT)?;
            limit("declared reads", reads.len(), MAX_DECLARED_READS)?;
            for (i, r) in reads.iter().enumerate() {
                dataset_id(&r.dataset)?;
                if reads[..i].contains(r) {
                    return Err(TxFormatError::DuplicateDeclaredRead);
                }
            }
            Ok(())
        }
        Call::RegisterDataset { id, fields, .. } => {
            dataset_id(id)?;
            limit("fields", fields.len(), MAX_FIELDS)?;
            for f in fields {
                limit("field name", f.name.len(), MAX_FIELD_NAME)?;
            }
            Ok(())
        }
        Call::CommitRecord { dataset, .. } => dataset_id(dataset),
        Call::AttestSealedOutputs { attestations } => limit(
            "attestations",
            attestations.len(),
            crate::committee::MAX_ATTESTATIONS,
        ),
        Call::RequestConsent { request } => {
            limit("purpose", request.purpose.len(), MAX_PURPOSE)?;
            limit("datasets", request.datasets.len(), MAX_CONSENT_DATASETS)?;
            request.datasets.iter().try_for_each(|d| dataset_id(d))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(call: Call) -> SignedTransaction {
        SignedTransaction {
            tx: Transaction {
                chain_id: "civitas-dev".into(),
                signer: AccountId([1; 32]),
                nonce: 0,
                fuel_limit: 1_000_000,
                call,
            },
            signature: [0; 64],
        }
    }

    #[test]
    fn decode_checked_round_trips_and_enforces_limits() {
        let stx = sample(Call::Transfer {
            to: AccountId([2; 32]),
            amount: 5,
        });
        assert_eq!(
            SignedTransaction::decode_checked(&stx.encode()),
            Ok(stx.clone())
        );
        let mut trailing = stx.encode();
        trailing.push(0);
        assert_eq!(
            SignedTransaction::decode_checked(&trailing),
            Err(TxFormatError::Undecodable)
        );
        assert_eq!(
            SignedTransaction::decode_checked(b"\xff\xff"),
            Err(TxFormatError::Undecodable)
        );
        let big = sample(Call::Call {
            contract: AccountId([3; 32]),
            input: alloc::vec![0; MAX_INPUT + 1],
        });
        assert!(matches!(
            SignedTransaction::decode_checked(&big.encode()),
            Err(TxFormatError::FieldTooLarge { field: "input", .. })
        ));
        let huge = alloc::vec![0u8; MAX_TX_BYTES + 1];
        assert!(matches!(
            SignedTransaction::decode_checked(&huge),
            Err(TxFormatError::TooLarge { .. })
        ));
    }

    #[test]
    fn signing_hash_is_domain_separated_and_covers_every_field() {
        let a = sample(Call::Transfer {
            to: AccountId([2; 32]),
            amount: 5,
        });
        let mut b = a.clone();
        b.tx.nonce = 1;
        assert_ne!(a.tx.signing_hash(), b.tx.signing_hash());
        assert_ne!(a.tx.signing_hash(), sha3_256(&a.tx.encode()));
    }

    /// One value of every call variant, with every payload field set.
    fn every_call() -> Vec<Call> {
        let h = |b: u8| Hash([b; 32]);
        let acc = |b: u8| AccountId([b; 32]);
        alloc::vec![
            Call::UploadCode {
                code: alloc::vec![1, 2]
            },
            Call::Instantiate {
                code_hash: h(1),
                salt: alloc::vec![1],
                input: alloc::vec![2]
            },
            Call::Call {
                contract: acc(1),
                input: alloc::vec![1]
            },
            Call::Upgrade {
                contract: acc(1),
                code_hash: h(1)
            },
            Call::Transfer {
                to: acc(1),
                amount: 1
            },
            Call::Propose {
                action: GovernanceAction::GrantRole {
                    account: acc(1),
                    role: Role::Custodian
                }
            },
            Call::Propose {
                action: GovernanceAction::RevokeRole {
                    account: acc(1),
                    role: Role::Custodian
                }
            },
            Call::Propose {
                action: GovernanceAction::SetDeployPolicy {
                    upload: RoleSet::of(&[Role::Validator]),
                    instantiate: RoleSet::of(&[Role::Institution]),
                },
            },
            Call::Propose {
                action: GovernanceAction::SetThreshold { threshold: 2 }
            },
            Call::Propose {
                action: GovernanceAction::SetSealedCommittee {
                    committee: crate::committee::SealedCommittee {
                        members: alloc::vec![acc(1), acc(2)],
                        threshold: 1,
                    },
                },
            },
            Call::Propose {
                action: GovernanceAction::SetFuelPrice {
                    credits_per_million_fuel: 5,
                },
            },
            Call::Approve { proposal: 1 },
            Call::BindIdentity {
                subject: h(1),
                account: acc(1)
            },
            Call::RegisterDataset {
                id: "tax.income".into(),
                fields: alloc::vec![Field {
                    name: "income".into(),
                    ty: crate::vault::FieldType::U64
                }],
                price: 1,
            },
            Call::CommitRecord {
                subject: h(1),
                dataset: "tax.income".into(),
                version: 1,
                record_hash: h(2),
                signature: [1; 64],
            },
            Call::RequestConsent {
                request: ConsentRequest {
                    subject: h(1),
                    datasets: alloc::vec!["tax.income".into()],
                    purpose: "loan".into(),
                    mode: crate::vault::ConsentMode::Compute,
                    code_hash: Some(h(2)),
                    expires_ms: 1,
                    max_uses: 1,
                },
            },
            Call::Consent {
                id: 1,
                action: ConsentAction::Approve
            },
            Call::ApproveCode {
                code_hash: h(1),
                approved: true
            },
            Call::SealedCall {
                contract: acc(1),
                input: alloc::vec![1],
                reads: alloc::vec![DeclaredRead {
                    subject: h(3),
                    dataset: "tax.income".into()
                }],
            },
            Call::Disclose { consent: 1 },
            Call::AttestSealedOutputs {
                attestations: alloc::vec![crate::committee::SealedAttestation {
                    call: h(1),
                    output_hash: h(2),
                }],
            },
            Call::Private {
                kind: PrivateKind::Consent,
                body: Envelope {
                    sender_key: [1; 32],
                    nonce: [2; 24],
                    ciphertext: alloc::vec![3],
                },
            },
        ]
    }

    /// Every way to change one payload field of `call` (or its variant's nested values).
    fn payload_variations(call: &Call) -> Vec<Call> {
        let h = Hash([0xee; 32]);
        let acc = AccountId([0xee; 32]);
        let mut out = Vec::new();
        let mut vary = |f: &dyn Fn(&mut Call)| {
            let mut c = call.clone();
            f(&mut c);
            assert_ne!(&c, call, "the variation must change the call");
            out.push(c);
        };
        match call {
            Call::UploadCode { .. } => vary(&|c| {
                if let Call::UploadCode { code } = c {
                    code.push(0)
                }
            }),
            Call::Instantiate { .. } => {
                vary(&|c| {
                    if let Call::Instantiate { code_hash, .. } = c {
                        *code_hash = h
                    }
                });
                vary(&|c| {
                    if let Call::Instantiate { salt, .. } = c {
                        salt.push(0)
                    }
                });
                vary(&|c| {
                    if let Call::Instantiate { input, .. } = c {
                        input.push(0)
                    }
                });
            }
            Call::Call { .. } => {
                vary(&|c| {
                    if let Call::Call { contract, .. } = c {
                        *contract = acc
                    }
                });
                vary(&|c| {
                    if let Call::Call { input, .. } = c {
                        input.push(0)
                    }
                });
            }
            Call::Upgrade { .. } => {
                vary(&|c| {
                    if let Call::Upgrade { contract, .. } = c {
                        *contract = acc
                    }
                });
                vary(&|c| {
                    if let Call::Upgrade { code_hash, .. } = c {
                        *code_hash = h
                    }
                });
            }
            Call::Transfer { .. } => {
                vary(&|c| {
                    if let Call::Transfer { to, .. } = c {
                        *to = acc
                    }
                });
                vary(&|c| {
                    if let Call::Transfer { amount, .. } = c {
                        *amount += 1
                    }
                });
            }
            Call::Propose { action } => match action {
                GovernanceAction::GrantRole { .. } => {
                    vary(&|c| {
                        if let Call::Propose {
                            action: GovernanceAction::GrantRole { account, .. },
                        } = c
                        {
                            *account = acc
                        }
                    });
                    vary(&|c| {
                        if let Call::Propose {
                            action: GovernanceAction::GrantRole { role, .. },
                        } = c
                        {
                            *role = Role::Regulator
                        }
                    });
                }
                GovernanceAction::RevokeRole { .. } => {
                    vary(&|c| {
                        if let Call::Propose {
                            action: GovernanceAction::RevokeRole { account, .. },
                        } = c
                        {
                            *account = acc
                        }
                    });
                    vary(&|c| {
                        if let Call::Propose {
                            action: GovernanceAction::RevokeRole { role, .. },
                        } = c
                        {
                            *role = Role::Regulator
                        }
                    });
                }
                GovernanceAction::SetDeployPolicy { .. } => {
                    vary(&|c| {
                        if let Call::Propose {
                            action: GovernanceAction::SetDeployPolicy { upload, .. },
                        } = c
                        {
                            *upload = upload.with(Role::Regulator)
                        }
                    });
                    vary(&|c| {
                        if let Call::Propose {
                            action: GovernanceAction::SetDeployPolicy { instantiate, .. },
                        } = c
                        {
                            *instantiate = instantiate.with(Role::Regulator)
                        }
                    });
                }
                GovernanceAction::SetThreshold { .. } => {
                    vary(&|c| {
                        if let Call::Propose {
                            action: GovernanceAction::SetThreshold { threshold },
                        } = c
                        {
                            *threshold += 1
                        }
                    });
                }
                GovernanceAction::SetSealedCommittee { .. } => {
                    vary(&|c| {
                        if let Call::Propose {
                            action: GovernanceAction::SetSealedCommittee { committee },
                        } = c
                        {
                            committee.members.push(acc)
                        }
                    });
                    vary(&|c| {
                        if let Call::Propose {
                            action: GovernanceAction::SetSealedCommittee { committee },
                        } = c
                        {
                            committee.threshold += 1
                        }
                    });
                }
                GovernanceAction::SetFuelPrice { .. } => {
                    vary(&|c| {
                        if let Call::Propose {
                            action:
                                GovernanceAction::SetFuelPrice {
                                    credits_per_million_fuel,
                                },
                        } = c
                        {
                            *credits_per_million_fuel += 1
                        }
                    });
                }
            },
            Call::Approve { .. } => vary(&|c| {
                if let Call::Approve { proposal } = c {
                    *proposal += 1
                }
            }),
            Call::BindIdentity { .. } => {
                vary(&|c| {
                    if let Call::BindIdentity { subject, .. } = c {
                        *subject = h
                    }
                });
                vary(&|c| {
                    if let Call::BindIdentity { account, .. } = c {
                        *account = acc
                    }
                });
            }
            Call::RegisterDataset { .. } => {
                vary(&|c| {
                    if let Call::RegisterDataset { id, .. } = c {
                        id.push('x')
                    }
                });
                vary(&|c| {
                    if let Call::RegisterDataset { fields, .. } = c {
                        fields[0].name.push('x')
                    }
                });
                vary(&|c| {
                    if let Call::RegisterDataset { fields, .. } = c {
                        fields[0].ty = crate::vault::FieldType::Text
                    }
                });
                vary(&|c| {
                    if let Call::RegisterDataset { price, .. } = c {
                        *price += 1
                    }
                });
            }
            Call::CommitRecord { .. } => {
                vary(&|c| {
                    if let Call::CommitRecord { subject, .. } = c {
                        *subject = h
                    }
                });
                vary(&|c| {
                    if let Call::CommitRecord { dataset, .. } = c {
                        dataset.push('x')
                    }
                });
                vary(&|c| {
                    if let Call::CommitRecord { version, .. } = c {
                        *version += 1
                    }
                });
                vary(&|c| {
                    if let Call::CommitRecord { record_hash, .. } = c {
                        *record_hash = h
                    }
                });
                vary(&|c| {
                    if let Call::CommitRecord { signature, .. } = c {
                        signature[63] ^= 1
                    }
                });
            }
            Call::RequestConsent { .. } => {
                vary(&|c| {
                    if let Call::RequestConsent { request } = c {
                        request.subject = h
                    }
                });
                vary(&|c| {
                    if let Call::RequestConsent { request } = c {
                        request.datasets.push("x".into())
                    }
                });
                vary(&|c| {
                    if let Call::RequestConsent { request } = c {
                        request.purpose.push('x')
                    }
                });
                vary(&|c| {
                    if let Call::RequestConsent { request } = c {
                        request.mode = crate::vault::ConsentMode::Disclose
                    }
                });
                vary(&|c| {
                    if let Call::RequestConsent { request } = c {
                        request.code_hash = None
                    }
                });
                vary(&|c| {
                    if let Call::RequestConsent { request } = c {
                        request.expires_ms += 1
                    }
                });
                vary(&|c| {
                    if let Call::RequestConsent { request } = c {
                        request.max_uses += 1
                    }
                });
            }
            Call::Consent { .. } => {
                vary(&|c| {
                    if let Call::Consent { id, .. } = c {
                        *id += 1
                    }
                });
                vary(&|c| {
                    if let Call::Consent { action, .. } = c {
                        *action = ConsentAction::Revoke
                    }
                });
            }
            Call::ApproveCode { .. } => {
                vary(&|c| {
                    if let Call::ApproveCode { code_hash, .. } = c {
                        *code_hash = h
                    }
                });
                vary(&|c| {
                    if let Call::ApproveCode { approved, .. } = c {
                        *approved = false
                    }
                });
            }
            Call::SealedCall { .. } => {
                vary(&|c| {
                    if let Call::SealedCall { contract, .. } = c {
                        *contract = acc
                    }
                });
                vary(&|c| {
                    if let Call::SealedCall { input, .. } = c {
                        input.push(0)
                    }
                });
                vary(&|c| {
                    if let Call::SealedCall { reads, .. } = c {
                        reads[0].subject = h
                    }
                });
                vary(&|c| {
                    if let Call::SealedCall { reads, .. } = c {
                        reads[0].dataset.push('x')
                    }
                });
            }
            Call::Disclose { .. } => vary(&|c| {
                if let Call::Disclose { consent } = c {
                    *consent += 1
                }
            }),
            Call::Private { .. } => {
                vary(&|c| {
                    if let Call::Private { kind, .. } = c {
                        *kind = PrivateKind::Disclose
                    }
                });
                vary(&|c| {
                    if let Call::Private { body, .. } = c {
                        body.sender_key[0] ^= 1
                    }
                });
                vary(&|c| {
                    if let Call::Private { body, .. } = c {
                        body.nonce[0] ^= 1
                    }
                });
                vary(&|c| {
                    if let Call::Private { body, .. } = c {
                        body.ciphertext.push(0)
                    }
                });
            }
            Call::AttestSealedOutputs { .. } => {
                vary(&|c| {
                    if let Call::AttestSealedOutputs { attestations } = c {
                        attestations[0].call = h
                    }
                });
                vary(&|c| {
                    if let Call::AttestSealedOutputs { attestations } = c {
                        attestations[0].output_hash = h
                    }
                });
            }
        }
        out
    }

    #[test]
    fn signing_hash_changes_with_every_transaction_field() {
        let base = sample(Call::Transfer {
            to: AccountId([2; 32]),
            amount: 5,
        })
        .tx;
        let h = base.signing_hash();
        let mut t = base.clone();
        t.chain_id.push('x');
        assert_ne!(t.signing_hash(), h, "chain_id");
        let mut t = base.clone();
        t.signer = AccountId([9; 32]);
        assert_ne!(t.signing_hash(), h, "signer");
        let mut t = base.clone();
        t.nonce += 1;
        assert_ne!(t.signing_hash(), h, "nonce");
        let mut t = base.clone();
        t.fuel_limit += 1;
        assert_ne!(t.signing_hash(), h, "fuel_limit");
        let mut t = base.clone();
        t.call = Call::Transfer {
            to: AccountId([2; 32]),
            amount: 6,
        };
        assert_ne!(t.signing_hash(), h, "call");
    }

    #[test]
    fn signing_hash_changes_with_every_call_variant_and_payload_field() {
        let calls = every_call();
        assert_eq!(
            calls.len(),
            22,
            "every variant, governance actions counted one by one"
        );
        let mut kinds: Vec<&str> = calls.iter().map(Call::kind).collect();
        kinds.dedup();
        // `Private` names its body's kind: one more run of names than the 16 plain kinds.
        assert_eq!(kinds.len(), 17, "all 17 call variants are covered");
        let hash_of = |call: &Call| sample(call.clone()).tx.signing_hash();
        let mut seen = alloc::collections::BTreeSet::new();
        for call in &calls {
            assert!(
                seen.insert(hash_of(call)),
                "{call:?} hashes like another call"
            );
            let variations = payload_variations(call);
            assert!(!variations.is_empty());
            for varied in variations {
                assert_ne!(hash_of(&varied), hash_of(call), "{varied:?} vs {call:?}");
                assert!(seen.insert(hash_of(&varied)), "{varied:?} collides");
            }
        }
    }

    #[test]
    fn transaction_hash_covers_the_signature_and_every_field() {
        let stx = sample(Call::Transfer {
            to: AccountId([2; 32]),
            amount: 5,
        });
        let mut other = stx.clone();
        other.signature[0] ^= 1;
        assert_ne!(stx.hash(), other.hash(), "signature");
        let mut other = stx.clone();
        other.tx.fuel_limit += 1;
        assert_ne!(stx.hash(), other.hash(), "a transaction field");
        assert_eq!(stx.hash(), sha3_256(&stx.encode()));
    }

    #[test]
    fn role_sets() {
        let s = RoleSet::of(&[Role::Validator, Role::Regulator]);
        assert!(s.has(Role::Validator) && s.has(Role::Regulator) && !s.has(Role::Custodian));
        assert!(!s.without(Role::Validator).has(Role::Validator));
        assert!(s.intersects(RoleSet::of(&[Role::Regulator])));
    }
}
