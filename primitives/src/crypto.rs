//! ed25519 keys and signatures with domain separation: signing a transaction or a vote, and
//! strict single and batch verification.
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::tx::{Call, PrivateBody, PrivateCallError, PrivateKind, SignedTransaction, Transaction};
use crate::vault::{Envelope, SignedRequest};
use crate::AccountId;

/// A key pair that signs for an account.
#[derive(Clone)]
pub struct Keypair(SigningKey);

impl core::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Keypair({})", self.account())
    }
}

impl Keypair {
    /// From a 32-byte secret seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Keypair(SigningKey::from_bytes(&seed))
    }
    /// A deterministic key from a name (dev and tests only: anyone can derive it).
    pub fn dev(name: &str) -> Self {
        Self::from_seed(crate::sha3_256(alloc::format!("civitas/dev-key/{name}").as_bytes()).0)
    }
    /// The secret seed.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
    /// The account id (public key).
    pub fn account(&self) -> AccountId {
        AccountId(self.0.verifying_key().to_bytes())
    }
    /// Signs a 32-byte message hash.
    pub fn sign_hash(&self, hash: &crate::Hash) -> [u8; 64] {
        self.0.sign(&hash.0).to_bytes()
    }
    /// Signs a transaction.
    pub fn sign_tx(&self, tx: Transaction) -> SignedTransaction {
        let signature = self.sign_hash(&tx.signing_hash());
        SignedTransaction { tx, signature }
    }
    /// Signs `tx` for a chain whose access key is `access_key`: a call of a private kind is
    /// first encrypted to it ([`seal_private_call`]); `None` if encryption fails.
    pub fn sign_tx_for_chain(
        &self,
        tx: Transaction,
        access_key: &[u8; 32],
    ) -> Option<SignedTransaction> {
        Some(self.sign_tx(seal_private_call(tx, access_key, self)?))
    }
}

pub use crate::certificate::{verify_certificate, verify_signature as verify_hash};

/// Whether a signed transaction's signature is valid for its signer.
pub fn verify_tx(stx: &SignedTransaction) -> bool {
    verify_hash(&stx.tx.signer, &stx.tx.signing_hash(), &stx.signature)
}

/// Batch verification of transaction signatures; `true` only if all are valid. Falls back to
/// nothing: callers that need to know which one failed verify singly after a `false`.
pub fn verify_tx_batch(txs: &[&SignedTransaction]) -> bool {
    let mut messages = alloc::vec::Vec::with_capacity(txs.len());
    let mut signatures = alloc::vec::Vec::with_capacity(txs.len());
    let mut keys = alloc::vec::Vec::with_capacity(txs.len());
    for stx in txs {
        let Ok(key) = VerifyingKey::from_bytes(&stx.tx.signer.0) else {
            return false;
        };
        keys.push(key);
        messages.push(stx.tx.signing_hash().0);
        signatures.push(Signature::from_bytes(&stx.signature));
    }
    let refs: alloc::vec::Vec<&[u8]> = messages.iter().map(|m| &m[..]).collect();
    ed25519_dalek::verify_batch(&refs, &signatures, &keys).is_ok()
}

/// Batch verification of signatures over hashes, `(signer, hash, signature)`; `true` only if
/// all are valid (callers that must name the bad one verify singly after a `false`).
pub fn verify_hash_batch(items: &[(AccountId, crate::Hash, [u8; 64])]) -> bool {
    let mut keys = alloc::vec::Vec::with_capacity(items.len());
    let mut signatures = alloc::vec::Vec::with_capacity(items.len());
    for (signer, _, signature) in items {
        let Ok(key) = VerifyingKey::from_bytes(&signer.0) else {
            return false;
        };
        keys.push(key);
        signatures.push(Signature::from_bytes(signature));
    }
    let messages: alloc::vec::Vec<&[u8]> = items.iter().map(|(_, h, _)| &h.0[..]).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

impl Keypair {
    /// Signs a request for personal data (`method`, SCALE `body`) with a fresh nonce and the
    /// current time.
    pub fn sign_request(
        &self,
        method: &str,
        body: alloc::vec::Vec<u8>,
        issued_ms: u64,
    ) -> SignedRequest {
        let mut nonce = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
        let mut req = SignedRequest {
            method: method.into(),
            body,
            signer: self.account(),
            issued_ms,
            nonce: u64::from_le_bytes(nonce),
            signature: [0; 64],
        };
        req.signature = self.sign_hash(&req.signing_hash());
        req
    }
}

/// Whether a signed request's signature is valid for its signer.
pub fn verify_request(req: &SignedRequest) -> bool {
    verify_hash(&req.signer, &req.signing_hash(), &req.signature)
}

/// A one-time x25519 key pair for receiving an [`Envelope`].
pub struct ReplyKey(crypto_box::SecretKey);

impl ReplyKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        ReplyKey(crypto_box::SecretKey::generate(&mut rand_core::OsRng))
    }
    /// The public half, to put in a request.
    pub fn public(&self) -> [u8; 32] {
        *self.0.public_key().as_bytes()
    }
    /// Decrypts an envelope sent to this key.
    pub fn open(&self, env: &Envelope) -> Option<alloc::vec::Vec<u8>> {
        use crypto_box::aead::Aead;
        let sender = crypto_box::PublicKey::from(env.sender_key);
        let b = crypto_box::ChaChaBox::new(&sender, &self.0);
        b.decrypt(&env.nonce.into(), &env.ciphertext[..]).ok()
    }
}

/// Encrypts `plaintext` to the x25519 key `recipient` with a one-time sender key
/// (XChaCha20-Poly1305 box).
pub fn seal_to(recipient: &[u8; 32], plaintext: &[u8]) -> Option<Envelope> {
    use crypto_box::aead::{Aead, AeadCore};
    let sender = crypto_box::SecretKey::generate(&mut rand_core::OsRng);
    let b = crypto_box::ChaChaBox::new(&crypto_box::PublicKey::from(*recipient), &sender);
    let nonce = crypto_box::ChaChaBox::generate_nonce(&mut rand_core::OsRng);
    let ciphertext = b.encrypt(&nonce, plaintext).ok()?;
    Some(Envelope {
        sender_key: *sender.public_key().as_bytes(),
        nonce: nonce.into(),
        ciphertext,
    })
}

/// Opens an envelope sent to the x25519 key whose secret is `secret`.
pub fn open_sealed(secret: &[u8; 32], env: &Envelope) -> Option<alloc::vec::Vec<u8>> {
    ReplyKey(crypto_box::SecretKey::from(*secret)).open(env)
}

/// Domain of the committee transport key.
pub const COMMITTEE_TRANSPORT_DOMAIN: &[u8] = b"civitas/committee-transport/v1";

/// The x25519 secret the sealed-compute committee's nodes receive record payloads with:
/// derived from the chain sealing key, so only the committee holds it. Its public half is the
/// genesis `committee_key`.
pub fn committee_transport_secret(sealing_key: &[u8; 32]) -> [u8; 32] {
    let mut bytes = COMMITTEE_TRANSPORT_DOMAIN.to_vec();
    bytes.extend_from_slice(sealing_key);
    crate::sha3_256(&bytes).0
}

/// The x25519 public key of a 32-byte secret (the chain access key's public half).
pub fn x25519_public(secret: &[u8; 32]) -> [u8; 32] {
    *crypto_box::SecretKey::from(*secret).public_key().as_bytes()
}

/// `tx` with a call of a [`PrivateKind`] replaced by [`Call::Private`]: its body, bound to the
/// transaction's chain, signer and nonce, encrypted to the chain access key `access_key`
/// (public). Other calls come back unchanged; `None` if encryption fails.
///
/// The one-time sender key and nonce derive from the signer's secret and the body, as an
/// ed25519 signature's nonce does: unique for every distinct body, no random source needed,
/// and the same transaction encrypts to the same bytes.
pub fn seal_private_call(
    tx: Transaction,
    access_key: &[u8; 32],
    signer: &Keypair,
) -> Option<Transaction> {
    let Some(plaintext) = private_plaintext(&tx) else {
        return Some(tx);
    };
    let sender = crypto_box::SecretKey::from(private_derive(signer, b"key", &plaintext));
    let b = crypto_box::ChaChaBox::new(&crypto_box::PublicKey::from(*access_key), &sender);
    seal_body(tx, plaintext, signer, *sender.public_key().as_bytes(), &b)
}

/// Seals many private calls of one signer under one sender key, derived from the signer's
/// secret and `session` (for a bulk upload: a label of the chunk), so the node that opens them
/// computes one key exchange for all ([`PrivateOpener`] keeps it). Each body keeps a nonce of
/// its own, derived from the signer's secret and the body; the shared sender key links only
/// transactions that the signer already links.
pub struct PrivateSealer<'a> {
    signer: &'a Keypair,
    sender_key: [u8; 32],
    sealing: crypto_box::ChaChaBox,
}

impl<'a> PrivateSealer<'a> {
    /// A sealer to the chain access key `access_key` (public) for `signer`'s `session`.
    pub fn new(access_key: &[u8; 32], signer: &'a Keypair, session: &[u8]) -> Self {
        let sender = crypto_box::SecretKey::from(private_derive(signer, b"session", session));
        PrivateSealer {
            signer,
            sender_key: *sender.public_key().as_bytes(),
            sealing: crypto_box::ChaChaBox::new(&crypto_box::PublicKey::from(*access_key), &sender),
        }
    }

    /// As [`seal_private_call`], under the session's sender key.
    pub fn seal(&self, tx: Transaction) -> Option<Transaction> {
        let Some(plaintext) = private_plaintext(&tx) else {
            return Some(tx);
        };
        seal_body(tx, plaintext, self.signer, self.sender_key, &self.sealing)
    }
}

/// The encoded private body of `tx`, when its call is of a [`PrivateKind`].
fn private_plaintext(tx: &Transaction) -> Option<alloc::vec::Vec<u8>> {
    PrivateKind::of(&tx.call)?;
    Some(parity_scale_codec::Encode::encode(&PrivateBody {
        chain_id: tx.chain_id.clone(),
        signer: tx.signer,
        nonce: tx.nonce,
        call: tx.call.clone(),
    }))
}

/// sha3 of the private-body domain, `label`, the signer's secret and `data`.
fn private_derive(signer: &Keypair, label: &[u8], data: &[u8]) -> [u8; 32] {
    let mut input = b"civitas/private-body/v1/".to_vec();
    input.extend_from_slice(label);
    input.extend_from_slice(&signer.seed());
    input.extend_from_slice(data);
    crate::sha3_256(&input).0
}

fn seal_body(
    tx: Transaction,
    plaintext: alloc::vec::Vec<u8>,
    signer: &Keypair,
    sender_key: [u8; 32],
    sealing: &crypto_box::ChaChaBox,
) -> Option<Transaction> {
    use crypto_box::aead::Aead;
    let kind = PrivateKind::of(&tx.call)?;
    let mut box_nonce = [0u8; 24];
    box_nonce.copy_from_slice(&private_derive(signer, b"nonce", &plaintext)[..24]);
    let ciphertext = sealing.encrypt(&box_nonce.into(), &plaintext[..]).ok()?;
    Some(Transaction {
        chain_id: tx.chain_id,
        signer: tx.signer,
        nonce: tx.nonce,
        fuel_limit: tx.fuel_limit,
        call: Call::Private {
            kind,
            body: Envelope {
                sender_key,
                nonce: box_nonce,
                ciphertext,
            },
        },
    })
}

/// The plain call of `tx` when it is [`Call::Private`], opened with the chain access key's
/// secret; `Ok(None)` for any other call.
pub fn open_private_call(
    tx: &Transaction,
    access_secret: &[u8; 32],
) -> Result<Option<Call>, PrivateCallError> {
    let Call::Private { kind, body } = &tx.call else {
        return Ok(None);
    };
    let plaintext = ReplyKey(crypto_box::SecretKey::from(*access_secret))
        .open(body)
        .ok_or(PrivateCallError::Undecryptable)?;
    PrivateBody::decode_for(&plaintext, tx, *kind).map(Some)
}

/// Opens private calls with the chain access key's secret, keeping the key exchange of each
/// sender key it met (at most [`PrivateOpener::KEPT`]), so the calls of a sealing session cost
/// one exchange between them. Opens exactly what [`open_private_call`] opens.
pub struct PrivateOpener {
    secret: crypto_box::SecretKey,
    boxes: std::sync::Mutex<
        alloc::collections::BTreeMap<[u8; 32], std::sync::Arc<crypto_box::ChaChaBox>>,
    >,
}

impl PrivateOpener {
    /// Sender keys whose exchange is kept; past it the kept ones are dropped.
    pub const KEPT: usize = 1024;

    /// An opener with the access key's secret.
    pub fn new(access_secret: &[u8; 32]) -> Self {
        PrivateOpener {
            secret: crypto_box::SecretKey::from(*access_secret),
            boxes: std::sync::Mutex::new(alloc::collections::BTreeMap::new()),
        }
    }

    /// As [`open_private_call`].
    pub fn open(&self, tx: &Transaction) -> Result<Option<Call>, PrivateCallError> {
        use crypto_box::aead::Aead;
        let Call::Private { kind, body } = &tx.call else {
            return Ok(None);
        };
        let kept = self
            .boxes
            .lock()
            .ok()
            .and_then(|b| b.get(&body.sender_key).cloned());
        let opening = match kept {
            Some(b) => b,
            None => {
                let b = std::sync::Arc::new(crypto_box::ChaChaBox::new(
                    &crypto_box::PublicKey::from(body.sender_key),
                    &self.secret,
                ));
                if let Ok(mut boxes) = self.boxes.lock() {
                    if boxes.len() >= Self::KEPT {
                        boxes.clear();
                    }
                    boxes.insert(body.sender_key, b.clone());
                }
                b
            }
        };
        let plaintext = opening
            .decrypt(&body.nonce.into(), &body.ciphertext[..])
            .map_err(|_| PrivateCallError::Undecryptable)?;
        PrivateBody::decode_for(&plaintext, tx, *kind).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::Call;

    #[test]
    fn envelopes_open_only_with_the_reply_key() {
        let key = ReplyKey::generate();
        let env = seal_to(&key.public(), b"secret record").expect("seal");
        assert_eq!(key.open(&env).as_deref(), Some(&b"secret record"[..]));
        assert!(ReplyKey::generate().open(&env).is_none());
        let mut tampered = env.clone();
        tampered.ciphertext[0] ^= 1;
        assert!(key.open(&tampered).is_none());
    }

    #[test]
    fn requests_are_bound_to_signer_and_body() {
        let alice = Keypair::dev("alice");
        let req = alice.sign_request("audit_listBySubject", alloc::vec![1, 2], 5);
        assert!(verify_request(&req));
        let mut other = req.clone();
        other.body = alloc::vec![1, 3];
        assert!(!verify_request(&other));
        other = req.clone();
        other.method = "vault_fetchDisclosed".into();
        assert!(!verify_request(&other));
        // Alice's signature does not verify for Bob, whether or not Bob's key would match.
        other = req.clone();
        other.signer = Keypair::dev("bob").account();
        assert!(!verify_request(&other));
        other = req.clone();
        other.issued_ms += 1;
        assert!(!verify_request(&other), "issue time is bound");
        other = req.clone();
        other.nonce = other.nonce.wrapping_add(1);
        assert!(!verify_request(&other), "nonce is bound");
        other = req.clone();
        other.signature[0] ^= 1;
        assert!(!verify_request(&other), "a changed signature fails");
        // Bob's own signature over the same request verifies for Bob only.
        let bob = Keypair::dev("bob");
        let mut bobs = req.clone();
        bobs.signer = bob.account();
        bobs.signature = bob.sign_hash(&bobs.signing_hash());
        assert!(verify_request(&bobs));
        bobs.signer = alice.account();
        assert!(!verify_request(&bobs));
    }

    #[test]
    fn transaction_signatures_are_bound_to_signer_and_chain() {
        let alice = Keypair::dev("alice");
        let bob = Keypair::dev("bob");
        let signed = alice.sign_tx(tx(0));
        assert!(verify_tx(&signed));
        let mut as_bob = signed.clone();
        as_bob.tx.signer = bob.account();
        assert!(!verify_tx(&as_bob), "alice's signature is not bob's");
        assert!(!verify_tx_batch(&[&as_bob]));
        let mut other_chain = signed.clone();
        other_chain.tx.chain_id = "u".into();
        assert!(!verify_tx(&other_chain), "chain id is bound");
        let mut more_fuel = signed.clone();
        more_fuel.tx.fuel_limit += 1;
        assert!(!verify_tx(&more_fuel), "fuel limit is bound");
        let mut other_call = signed.clone();
        other_call.tx.call = Call::Transfer {
            to: AccountId([9; 32]),
            amount: 2,
        };
        assert!(!verify_tx(&other_call), "call is bound");
    }

    fn tx(nonce: u64) -> Transaction {
        Transaction {
            chain_id: "t".into(),
            signer: Keypair::dev("alice").account(),
            nonce,
            fuel_limit: 1,
            call: Call::Transfer {
                to: AccountId([9; 32]),
                amount: 1,
            },
        }
    }

    #[test]
    fn signatures_verify_singly_and_in_batches() {
        let alice = Keypair::dev("alice");
        let a = alice.sign_tx(tx(0));
        let b = alice.sign_tx(tx(1));
        assert!(verify_tx(&a) && verify_tx(&b));
        assert!(verify_tx_batch(&[&a, &b]));
        let mut forged = b.clone();
        forged.tx.nonce = 2;
        assert!(!verify_tx(&forged));
        assert!(!verify_tx_batch(&[&a, &forged]));
        let mut wrong_signer = a.clone();
        wrong_signer.tx.signer = Keypair::dev("bob").account();
        assert!(!verify_tx(&wrong_signer));
    }

    fn commit(nonce: u64, version: u32) -> Transaction {
        Transaction {
            chain_id: "t".into(),
            signer: Keypair::dev("tax").account(),
            nonce,
            fuel_limit: 1,
            call: Call::CommitRecord {
                subject: crate::Hash([5; 32]),
                dataset: "tax.annual_income".into(),
                version,
                record_hash: crate::Hash([version as u8; 32]),
                signature: [7; 64],
            },
        }
    }

    #[test]
    fn a_sealing_session_shares_one_sender_key_and_opens_as_single_bodies_do() {
        let tax = Keypair::dev("tax");
        let access = [0x42; 32];
        let public = x25519_public(&access);
        let sealer = PrivateSealer::new(&public, &tax, b"chunk 1");
        let a = sealer.seal(commit(0, 1)).expect("sealed");
        let b = sealer.seal(commit(1, 2)).expect("sealed");
        let (Call::Private { body: ea, .. }, Call::Private { body: eb, .. }) = (&a.call, &b.call)
        else {
            panic!("record commitments are private calls");
        };
        assert_eq!(ea.sender_key, eb.sender_key, "one exchange for the session");
        assert_ne!(ea.nonce, eb.nonce, "each body has its own nonce");
        assert_ne!(
            PrivateSealer::new(&public, &tax, b"chunk 2")
                .seal(commit(0, 1))
                .map(|t| t.call),
            Some(a.call.clone()),
            "another session, another sender key"
        );
        let opener = PrivateOpener::new(&access);
        for (sealed, plain) in [(&a, commit(0, 1)), (&b, commit(1, 2))] {
            assert_eq!(
                open_private_call(sealed, &access),
                Ok(Some(plain.call.clone()))
            );
            // Twice: the second open uses the kept exchange.
            assert_eq!(opener.open(sealed), Ok(Some(plain.call.clone())));
            assert_eq!(opener.open(sealed), Ok(Some(plain.call)));
        }
        // The same opener refuses what a single open refuses: a body moved to another
        // transaction, an altered body, a body for another access key.
        let mut moved = b.clone();
        moved.nonce = 0;
        assert!(opener.open(&moved).is_err());
        assert!(open_private_call(&moved, &access).is_err());
        let mut altered = a.clone();
        if let Call::Private { body, .. } = &mut altered.call {
            body.ciphertext[0] ^= 1;
        }
        assert_eq!(opener.open(&altered), Err(PrivateCallError::Undecryptable));
        assert_eq!(
            PrivateOpener::new(&[0x43; 32]).open(&a),
            Err(PrivateCallError::Undecryptable)
        );
        // A single seal still derives its own sender key from the body, as before.
        let single = seal_private_call(commit(0, 1), &public, &tax).expect("sealed");
        assert_eq!(opener.open(&single), Ok(Some(commit(0, 1).call)));
        assert_eq!(
            seal_private_call(commit(0, 1), &public, &tax).map(|t| t.call),
            Some(single.call),
            "deterministic"
        );
    }

    #[test]
    fn hash_signatures_verify_as_a_batch_only_when_all_do() {
        let tax = Keypair::dev("tax");
        let items: Vec<(AccountId, crate::Hash, [u8; 64])> = (0..4u8)
            .map(|i| {
                let h = crate::Hash([i; 32]);
                (tax.account(), h, tax.sign_hash(&h))
            })
            .collect();
        assert!(verify_hash_batch(&items));
        let mut forged = items.clone();
        forged[2].1 = crate::Hash([9; 32]);
        assert!(!verify_hash_batch(&forged));
        let mut other = items;
        other[0].0 = Keypair::dev("bob").account();
        assert!(!verify_hash_batch(&other));
    }
}
