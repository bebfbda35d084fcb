//! The `wasm-bindgen` exports the page calls. Values cross as strings (hex, JSON) and numbers;
//! errors become JavaScript `Error`s carrying the [`WalletError`] message.
use civitas_primitives::block::Header;
use civitas_primitives::crypto::Keypair;
use civitas_primitives::vault::subject_id as derive_subject;
use civitas_primitives::{AccountId, Hash};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::explorer::ServedReceipt;
use crate::keystore::{self, KeyFile};
use crate::light::{parse_set, step_of, LightClient, ServedPage, ServedProof, StepJson};
use crate::proven::ServedConsent;
use crate::requests;
use crate::{hex32, malformed, to_hex, WalletError};

fn js(e: WalletError) -> JsError {
    JsError::new(&e.to_string())
}

fn to_json<T: Serialize>(value: &T) -> Result<String, JsError> {
    serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))
}

/// A JavaScript number as a u64 (whole, non-negative, exact).
fn whole(what: &'static str, n: f64) -> Result<u64, JsError> {
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(n as u64)
    } else {
        Err(js(malformed(what, format!("{n} is not a whole number"))))
    }
}

/// A citizen's key, open in memory for this page's session.
#[wasm_bindgen]
pub struct Wallet {
    name: String,
    key: Keypair,
}

#[wasm_bindgen]
impl Wallet {
    /// Opens a key file (the CLI keystore format) with its passphrase.
    #[wasm_bindgen(js_name = fromKeyFile)]
    pub fn from_key_file(json: &str, passphrase: &str) -> Result<Wallet, JsError> {
        let file: KeyFile = serde_json::from_str(json)
            .map_err(|e| js(WalletError::UnsupportedKeyFile(e.to_string())))?;
        let key = keystore::decrypt(&file, passphrase).map_err(js)?;
        Ok(Wallet {
            name: file.name,
            key,
        })
    }

    /// A fresh random key named `name`.
    pub fn generate(name: &str) -> Result<Wallet, JsError> {
        Ok(Wallet {
            name: name.into(),
            key: keystore::generate().map_err(js)?,
        })
    }

    /// The key file of this key under `passphrase` (to keep in browser storage or move to the
    /// CLI's keystore).
    #[wasm_bindgen(js_name = keyFile)]
    pub fn key_file(&self, passphrase: &str) -> Result<String, JsError> {
        let file = keystore::encrypt(&self.name, &self.key, passphrase).map_err(js)?;
        serde_json::to_string_pretty(&file).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The key's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// The account id, `0x` hex.
    #[wasm_bindgen(getter)]
    pub fn account(&self) -> String {
        to_hex(&self.key.account().0)
    }

    /// A signed `consent_list` request for the page after consent `after` (`undefined`: the
    /// first page); a page of [`Self::consent_page_size`] consents may have more after it.
    #[wasm_bindgen(js_name = consentListRequest)]
    pub fn consent_list_request(&self, now_ms: f64, after: Option<f64>) -> Result<String, JsError> {
        let after = after.map(|a| whole("consent id", a)).transpose()?;
        requests::consent_list(&self.key, after, whole("time", now_ms)?).map_err(js)
    }

    /// The most consents one `consent_list` page holds.
    #[wasm_bindgen(js_name = consentPageSize)]
    pub fn consent_page_size() -> u32 {
        civitas_primitives::vault::MAX_CONSENT_PAGE
    }

    /// A signed `audit_listBySubject` request.
    #[wasm_bindgen(js_name = auditRequest)]
    pub fn audit_request(
        &self,
        subject: &str,
        from: f64,
        limit: u32,
        now_ms: f64,
    ) -> Result<String, JsError> {
        let subject = Hash(hex32("subject id", subject).map_err(js)?);
        requests::audit_by_subject(
            &self.key,
            subject,
            whole("first entry", from)?,
            limit,
            whole("time", now_ms)?,
        )
        .map_err(js)
    }

    /// A signed `vault_getSealedOutput` request for sealed call `tx_hash`, with a one-time reply
    /// key made here; the returned object keeps the key to open the reply.
    #[wasm_bindgen(js_name = sealedOutputRequest)]
    pub fn sealed_output_request(
        &self,
        tx_hash: &str,
        now_ms: f64,
    ) -> Result<SealedOutputFetch, JsError> {
        let tx_hash = Hash(hex32("transaction hash", tx_hash).map_err(js)?);
        let (request, reply) =
            crate::sealed::output_request(&self.key, tx_hash, whole("time", now_ms)?)
                .map_err(js)?;
        Ok(SealedOutputFetch {
            tx_hash,
            request,
            reply,
        })
    }

    /// Her answer (`approve`, `reject`, `pause`, `resume`, `revoke`) to consent `id`, as
    /// transaction `nonce`, encrypted to the chain access key: hex for `tx_submit`.
    #[wasm_bindgen(js_name = consentAnswer)]
    pub fn consent_answer(
        &self,
        chain_id: &str,
        nonce: f64,
        id: f64,
        action: &str,
        access_key: &str,
    ) -> Result<String, JsError> {
        let action =
            requests::action_of(action).ok_or_else(|| js(malformed("consent action", action)))?;
        let access_key = hex32("access key", access_key).map_err(js)?;
        requests::consent_answer(
            &self.key,
            chain_id,
            whole("nonce", nonce)?,
            whole("consent id", id)?,
            action,
            &access_key,
        )
        .map_err(js)
    }
}

/// The subject id of a citizen with `national_id` on the network salted with `network_salt`
/// (the dev chain: its chain id).
#[wasm_bindgen(js_name = subjectId)]
pub fn subject_id(network_salt: &str, national_id: &str) -> String {
    to_hex(&derive_subject(network_salt, national_id).0)
}

/// A pending `vault_getSealedOutput` request: the signed request and the one-time key that
/// opens its reply (never leaves the core).
#[wasm_bindgen]
pub struct SealedOutputFetch {
    tx_hash: Hash,
    request: String,
    reply: civitas_primitives::crypto::ReplyKey,
}

#[wasm_bindgen]
impl SealedOutputFetch {
    /// The signed request, hex for `vault_getSealedOutput`.
    #[wasm_bindgen(getter)]
    pub fn request(&self) -> String {
        self.request.clone()
    }
}

/// The state key `state_getProof` proves sealed call `tx_hash`'s public outcome under, hex.
#[wasm_bindgen(js_name = sealedOutcomeKey)]
pub fn sealed_outcome_key(tx_hash: &str) -> Result<String, JsError> {
    let tx_hash = Hash(hex32("transaction hash", tx_hash).map_err(js)?);
    Ok(to_hex(&crate::sealed::outcome_key(&tx_hash)))
}

/// The state key `state_getProof` proves `account`'s record (credits) under, hex.
#[wasm_bindgen(js_name = accountKey)]
pub fn account_key(account: &str) -> Result<String, JsError> {
    let account = AccountId(hex32("account", account).map_err(js)?);
    Ok(to_hex(&crate::proven::account_key(&account)))
}

/// The state key `state_getProof` proves a regulator's decision on `code_hash` under, hex.
#[wasm_bindgen(js_name = approvalKey)]
pub fn approval_key(code_hash: &str) -> Result<String, JsError> {
    let code_hash = Hash(hex32("code hash", code_hash).map_err(js)?);
    Ok(to_hex(&crate::proven::approval_key(&code_hash)))
}

/// The state key `state_getProof` proves the identity binding of `subject` under, hex.
#[wasm_bindgen(js_name = identityKey)]
pub fn identity_key(subject: &str) -> Result<String, JsError> {
    let subject = Hash(hex32("subject id", subject).map_err(js)?);
    Ok(to_hex(&crate::light::identity_key(&subject)))
}

/// A verified header as the page reads it.
#[derive(Serialize)]
struct HeaderView {
    height: u64,
    hash: String,
    time_ms: u64,
    state_root: String,
    validators_hash: String,
    next_validators_hash: String,
}

impl HeaderView {
    fn of(h: &Header) -> HeaderView {
        HeaderView {
            height: h.height,
            hash: to_hex(&h.hash().0),
            time_ms: h.time_ms,
            state_root: to_hex(&h.state_root.0),
            validators_hash: to_hex(&h.validators_hash.0),
            next_validators_hash: to_hex(&h.next_validators_hash.0),
        }
    }
}

/// The page's light client.
#[wasm_bindgen]
pub struct Light {
    inner: LightClient,
}

#[wasm_bindgen]
impl Light {
    /// Pins `chain_id` and its genesis validator set (a JSON array of hex ids).
    #[wasm_bindgen(constructor)]
    pub fn new(chain_id: &str, genesis_validators: &str) -> Result<Light, JsError> {
        let hexes: Vec<String> = serde_json::from_str(genesis_validators)
            .map_err(|e| js(malformed("validator list", e)))?;
        let set = parse_set(&hexes).map_err(js)?;
        Ok(Light {
            inner: LightClient::new(chain_id, &set),
        })
    }

    /// The pinned set's hash, to compare with the one the departments publish.
    #[wasm_bindgen(js_name = rootHash)]
    pub fn root_hash(&self) -> String {
        to_hex(&self.inner.root_hash().0)
    }

    /// The pinned chain id.
    #[wasm_bindgen(js_name = chainId)]
    pub fn chain_id(&self) -> String {
        self.inner.chain_id().into()
    }

    /// Whether a header signed by `validators` (JSON array of hex ids) needs no earlier step.
    #[wasm_bindgen(js_name = trustsSet)]
    pub fn trusts_set(&self, validators: &str) -> Result<bool, JsError> {
        let hexes: Vec<String> =
            serde_json::from_str(validators).map_err(|e| js(malformed("validator list", e)))?;
        Ok(self.inner.trusts_set(&parse_set(&hexes).map_err(js)?))
    }

    /// Verifies steps (JSON array of `{raw, certificate, validators}`, oldest first); returns
    /// the last header (JSON).
    pub fn verify(&mut self, steps: &str) -> Result<String, JsError> {
        let steps: Vec<StepJson> =
            serde_json::from_str(steps).map_err(|e| js(malformed("steps", e)))?;
        let steps = steps
            .iter()
            .map(step_of)
            .collect::<Result<Vec<_>, _>>()
            .map_err(js)?;
        let header = self.inner.verify(&steps).map_err(js)?;
        serde_json::to_string(&HeaderView::of(&header)).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Whether the header at `height` is verified (freshly or from the page's cache).
    #[wasm_bindgen(js_name = hasHeader)]
    pub fn has_header(&self, height: f64) -> Result<bool, JsError> {
        Ok(self.inner.header(whole("height", height)?).is_some())
    }

    /// Checks a `state_getProof` answer (JSON) for the identity binding of `subject` against
    /// the verified header of its height; returns `{subject, bound_account, mine, height}`.
    #[wasm_bindgen(js_name = checkBinding)]
    pub fn check_binding(
        &self,
        proof: &str,
        subject: &str,
        account: &str,
    ) -> Result<String, JsError> {
        let served: ServedProof =
            serde_json::from_str(proof).map_err(|e| js(malformed("state proof", e)))?;
        let subject = Hash(hex32("subject id", subject).map_err(js)?);
        let account = AccountId(hex32("account", account).map_err(js)?);
        let binding = self
            .inner
            .check_binding(&subject, &account, &served)
            .map_err(js)?;
        serde_json::to_string(&binding).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Checks a sealed result: `outcome` (the `state_getProof` answer for its outcome key) is
    /// proven against the verified header of its height and must carry the committee's output
    /// hash; `envelope` (the `vault_getSealedOutput` answer) is opened with `fetch`'s key and
    /// must match it. Returns `{ok, output, error_code, output_hash, height}` (JSON).
    #[wasm_bindgen(js_name = checkSealed)]
    pub fn check_sealed(
        &self,
        fetch: &SealedOutputFetch,
        outcome: &str,
        envelope: &str,
    ) -> Result<String, JsError> {
        let served: ServedProof =
            serde_json::from_str(outcome).map_err(|e| js(malformed("state proof", e)))?;
        let checked =
            crate::sealed::check(&self.inner, &fetch.tx_hash, &served, &fetch.reply, envelope)
                .map_err(js)?;
        serde_json::to_string(&checked).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Whether sealed call `tx_hash`'s outcome, proven (`state_getProof` answer) against the
    /// verified header of its height, carries the committee's output hash yet.
    #[wasm_bindgen(js_name = sealedAttested)]
    pub fn sealed_attested(&self, outcome: &str, tx_hash: &str) -> Result<bool, JsError> {
        let served: ServedProof =
            serde_json::from_str(outcome).map_err(|e| js(malformed("state proof", e)))?;
        let tx_hash = Hash(hex32("transaction hash", tx_hash).map_err(js)?);
        let proven = crate::sealed::proven_outcome(&self.inner, &tx_hash, &served).map_err(js)?;
        Ok(proven.output_hash.is_some())
    }

    /// Checks one consent as `consent_list` serves it (JSON, with its proof) against the
    /// verified header of the proof's height, and that it is about `subject` (hex, if known) or
    /// filed by `account`; returns the proven consent (JSON), its status recomputed at that
    /// header's block time.
    #[wasm_bindgen(js_name = checkConsent)]
    pub fn check_consent(
        &self,
        consent: &str,
        subject: Option<String>,
        account: &str,
    ) -> Result<String, JsError> {
        let served: ServedConsent =
            serde_json::from_str(consent).map_err(|e| js(malformed("consent", e)))?;
        let subject = subject
            .map(|s| hex32("subject id", &s).map(Hash))
            .transpose()
            .map_err(js)?;
        let account = AccountId(hex32("account", account).map_err(js)?);
        let view = crate::proven::check_consent(&self.inner, &served, subject.as_ref(), &account)
            .map_err(js)?;
        to_json(&view)
    }

    /// Forgets the header believed at `height` (it contradicts a validly signed one).
    pub fn forget(&mut self, height: f64) -> Result<(), JsError> {
        self.inner.forget(whole("height", height)?);
        Ok(())
    }

    /// Checks a `state_getProof` answer (JSON) for `account`'s record; returns
    /// `{account, balance, height}` (JSON).
    #[wasm_bindgen(js_name = checkCredits)]
    pub fn check_credits(&self, proof: &str, account: &str) -> Result<String, JsError> {
        let served: ServedProof =
            serde_json::from_str(proof).map_err(|e| js(malformed("state proof", e)))?;
        let account = AccountId(hex32("account", account).map_err(js)?);
        to_json(&crate::proven::check_credits(&self.inner, &account, &served).map_err(js)?)
    }

    /// Checks a `state_getProof` answer (JSON) for the regulator's decision on `code_hash`;
    /// returns `{code_hash, approved, regulator, decided_at, height}` (JSON).
    #[wasm_bindgen(js_name = checkApproval)]
    pub fn check_approval(&self, proof: &str, code_hash: &str) -> Result<String, JsError> {
        let served: ServedProof =
            serde_json::from_str(proof).map_err(|e| js(malformed("state proof", e)))?;
        let code_hash = Hash(hex32("code hash", code_hash).map_err(js)?);
        to_json(&crate::proven::check_approval(&self.inner, &code_hash, &served).map_err(js)?)
    }

    /// Explains a block (`{raw, certificate, validators}` JSON) whose header is verified:
    /// returns `{height, hash, time_ms, proposer, txs, round, signers, set_size}` (JSON).
    #[wasm_bindgen(js_name = blockView)]
    pub fn block_view(&self, step: &str) -> Result<String, JsError> {
        let step: StepJson = serde_json::from_str(step).map_err(|e| js(malformed("block", e)))?;
        to_json(&crate::explorer::block_view(&self.inner, &step).map_err(js)?)
    }

    /// Checks a `tx_getReceipt` answer (JSON) for `tx_hash` against the verified header of its
    /// height; returns the proven receipt (JSON).
    #[wasm_bindgen(js_name = checkReceipt)]
    pub fn check_receipt(&self, receipt: &str, tx_hash: &str) -> Result<String, JsError> {
        let served: ServedReceipt =
            serde_json::from_str(receipt).map_err(|e| js(malformed("receipt", e)))?;
        let tx_hash = Hash(hex32("transaction hash", tx_hash).map_err(js)?);
        to_json(&crate::explorer::check_receipt(&self.inner, &tx_hash, &served).map_err(js)?)
    }

    /// Checks an `audit_listBySubject` page (JSON) against the verified header of its height;
    /// returns one result per entry (JSON).
    #[wasm_bindgen(js_name = checkPage)]
    pub fn check_page(&self, page: &str) -> Result<String, JsError> {
        let page: ServedPage =
            serde_json::from_str(page).map_err(|e| js(malformed("audit page", e)))?;
        serde_json::to_string(&self.inner.check_page(&page))
            .map_err(|e| JsError::new(&e.to_string()))
    }
}

/// The dev chain's named accounts, `{ "0x…": "bank-a", … }` (JSON), so the page can show
/// institutions by name on a dev chain.
#[wasm_bindgen(js_name = devNames)]
pub fn dev_names() -> String {
    let names: std::collections::BTreeMap<String, &str> = civitas_primitives::dev::DEV_ACCOUNTS
        .iter()
        .map(|(n, _)| (to_hex(&civitas_primitives::dev::dev_key(n).account().0), *n))
        .collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "{}".into())
}
