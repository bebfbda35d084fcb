// The citizen wallet page. Everything that decides what she can trust runs in the WebAssembly
// core (civitas_wallet.js): key decryption, signing, header and proof verification. This file
// only talks JSON-RPC to the node that served the page and draws the results.
import init, { Wallet, Light, subjectId, identityKey, sealedOutcomeKey, accountKey, approvalKey, devNames } from './civitas_wallet.js';

const RPC = new URL('/', location.href).href;
const $ = (id) => document.getElementById(id);
const timings = (window.civitasTimings = {});
let light = null;
let wallet = null;
let chainId = null;
let subject = null;
let names = {};
let rpcId = 0;

class RpcError extends Error {
  constructor(message, data) { super(message); this.data = data; }
}

async function rpc(method, params = []) {
  let res;
  try {
    res = await fetch(RPC, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }),
    });
  } catch (e) {
    throw new RpcError(`node unreachable (${RPC}): ${e.message}`);
  }
  if (!res.ok) throw new RpcError(`node unreachable: HTTP ${res.status} from ${RPC}`);
  const body = await res.json();
  if (body.error) throw new RpcError(body.error.message, body.error.data);
  return body.result;
}

function showError(msg) {
  const el = $('error');
  el.textContent = msg;
  el.hidden = !msg;
}
function status(msg) { $('status').textContent = msg; }
function short(hex) { return hex ? `${hex.slice(0, 10)}…${hex.slice(-4)}` : '-'; }
function who(hex) { return names[hex] ? `${names[hex]} (${short(hex)})` : short(hex); }
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// --- trust root: pinned on first use, like the CLI's ~/.civitas/trust/<chain>.json ---------

async function pinTrustRoot() {
  const health = await rpc('system_health');
  chainId = health.chain_id;
  const stored = localStorage.getItem(`civitas.trust.${chainId}`);
  let root;
  if (stored) {
    root = JSON.parse(stored);
    $('trust-note').textContent = 'Pinned earlier in this browser.';
  } else {
    const v = await rpc('chain_getValidators', [1]);
    root = { chain_id: chainId, validators: v.validators };
    localStorage.setItem(`civitas.trust.${chainId}`, JSON.stringify(root));
    $('trust-note').textContent = 'Pinned now, on first use: compare the hash before you rely on it.';
  }
  light = new Light(root.chain_id, JSON.stringify(root.validators));
  $('chain-id').textContent = chainId;
  $('root-hash').textContent = light.rootHash();
  $('root-size').textContent = String(root.validators.length);
  await loadCachedHeaders();
}

// --- verified headers, cached in IndexedDB by (chain id, height) ---------------------------
// Each record keeps what proved the header (block, certificate, validators) and the trust root
// it was proven from. On load the records of the pinned root are proven again, oldest first, by
// the core (signatures only: nothing is fetched); a record that no longer proves is dropped and
// shown as a failure; a record from another root, or whose set can no longer be placed (its
// announcing header was pruned), is dropped quietly and fetched again when needed.

const CACHE_DB = 'civitas-wallet';
const CACHE_STORE = 'headers';
const CACHE_MAX = 64; // records kept per chain, the newest
const counters = { cachedUsed: 0, cacheHits: 0, cacheDropped: 0, headersFetched: 0 };
const cachedHeights = new Set();
let cacheFailures = [];
// The last step (block, certificate, validators) seen per height, so the explorer can explain a
// verified block without fetching it again.
const stepsByHeight = new Map();
const STEPS_KEPT = 256;
function keepStep(height, step) {
  stepsByHeight.set(height, step);
  if (stepsByHeight.size > STEPS_KEPT) stepsByHeight.delete(stepsByHeight.keys().next().value);
}

function countersToDom() {
  for (const [k, v] of Object.entries(counters)) document.body.dataset[k] = String(v);
  const note = $('cache-note');
  note.hidden = cacheFailures.length === 0;
  note.textContent = cacheFailures.length
    ? `${cacheFailures.length} cached header(s) FAILED verification and were dropped: ${cacheFailures.join('; ')}`
    : '';
}

function idbRequest(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
let dbPromise = null;
function cacheDb() {
  if (!dbPromise) {
    const open = indexedDB.open(CACHE_DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(CACHE_STORE, { keyPath: ['chain_id', 'height'] });
    dbPromise = idbRequest(open);
  }
  return dbPromise;
}
async function cacheStore(mode) {
  return (await cacheDb()).transaction(CACHE_STORE, mode).objectStore(CACHE_STORE);
}
const chainRange = () => IDBKeyRange.bound([chainId, 0], [chainId, Number.MAX_SAFE_INTEGER]);

async function cacheDrop(height) {
  cachedHeights.delete(height);
  await idbRequest((await cacheStore('readwrite')).delete([chainId, height]));
}

async function cachePut(steps, header) {
  try {
    const store = await cacheStore('readwrite');
    for (const s of steps) {
      const height = s.height;
      if (height > header.height) continue;
      store.put({ chain_id: chainId, height, root_hash: light.rootHash(), raw: s.raw, certificate: s.certificate, validators: s.validators });
    }
    const keys = await idbRequest(store.getAllKeys(chainRange()));
    for (const k of keys.slice(0, Math.max(0, keys.length - CACHE_MAX))) store.delete(k);
  } catch (e) {
    console.warn(`header cache not written: ${e.message}`);
  }
}

// Proves the cached headers of the pinned root again (oldest first) into the light client.
async function loadCachedHeaders() {
  let records;
  try {
    records = await idbRequest((await cacheStore('readonly')).getAll(chainRange()));
  } catch (e) {
    console.warn(`header cache not read: ${e.message}`);
    return;
  }
  for (const r of records) {
    const step = { raw: r.raw, certificate: r.certificate, validators: r.validators };
    let fails = null;
    if (r.root_hash !== light.rootHash() || !light.trustsSet(JSON.stringify(r.validators))) {
      await cacheDrop(r.height);
      continue;
    }
    try {
      const header = JSON.parse(light.verify(JSON.stringify([step])));
      if (header.height !== r.height) fails = `the record of height ${r.height} holds block ${header.height}`;
    } catch (e) { fails = e.message; }
    if (fails) {
      counters.cacheDropped += 1;
      cacheFailures.push(`block ${r.height}: ${fails}`);
      await cacheDrop(r.height);
    } else {
      counters.cachedUsed += 1;
      cachedHeights.add(r.height);
      keepStep(r.height, step);
    }
  }
  countersToDom();
}

// Verifies the header at `height`: walks back through validator-set changes to a set the
// light client trusts, then lets the core check forward. A header already verified (freshly or
// from the cache) is not fetched again.
const verifying = new Map(); // height -> the verification in flight
function verifyHeight(height) {
  if (!verifying.has(height)) {
    verifying.set(height, verifyHeightOnce(height).finally(() => verifying.delete(height)));
  }
  return verifying.get(height);
}

async function verifyHeightOnce(height) {
  if (light.hasHeader(height)) {
    if (cachedHeights.has(height)) { counters.cacheHits += 1; countersToDom(); }
    return;
  }
  const steps = [];
  let h = height;
  for (let i = 0; i < 10000; i++) {
    const [block, vals] = await Promise.all([
      rpc('chain_getBlock', [h]),
      rpc('chain_getValidators', [h]),
    ]);
    counters.headersFetched += 1;
    steps.unshift({ height: h, raw: block.raw, certificate: block.certificate, validators: vals.validators });
    keepStep(h, { raw: block.raw, certificate: block.certificate, validators: vals.validators });
    if (light.trustsSet(JSON.stringify(vals.validators))) break;
    if (vals.since < 2 || vals.since > h) {
      throw new Error(`verification failed: the validators of height ${h} follow from no set the trust root vouches for`);
    }
    h = vals.since - 1;
  }
  countersToDom();
  let header;
  try {
    header = JSON.parse(light.verify(JSON.stringify(steps.map(({ raw, certificate, validators }) => ({ raw, certificate, validators })))));
  } catch (e) {
    await dropContradictedCache(e);
    throw e;
  }
  await cachePut(steps, header);
  return header;
}

// A freshly verified header contradicting a cached one: the cached record is dropped and the
// failure shown (the error itself fails what was being verified).
async function dropContradictedCache(e) {
  const m = /height (\d+) contradicts/.exec(e.message);
  if (m && cachedHeights.has(Number(m[1]))) {
    const height = Number(m[1]);
    counters.cacheDropped += 1;
    cacheFailures.push(`block ${height}: ${e.message}`);
    await cacheDrop(height);
    // Not believed any more: the next look at this height verifies it afresh.
    light.forget(height);
    stepsByHeight.delete(height);
    countersToDom();
  }
}

// The node's proofs lead to another state root than the header verified at `height`: either
// the node lies, or the header believed earlier (perhaps from the cache) is not the one the
// departments committed. The block is fetched and verified again: a validly signed header that
// contradicts the one believed is evidence of a fork and fails loudly.
async function recheckHeight(height) {
  const [block, vals] = await Promise.all([rpc('chain_getBlock', [height]), rpc('chain_getValidators', [height])]);
  counters.headersFetched += 1;
  countersToDom();
  const step = { raw: block.raw, certificate: block.certificate, validators: vals.validators };
  if (!light.trustsSet(JSON.stringify(vals.validators))) {
    throw new Error(`verification failed: block ${height} is signed by a validator set this page has not followed to; reload to verify from the trust root`);
  }
  try {
    light.verify(JSON.stringify([step]));
  } catch (e) {
    await dropContradictedCache(e);
    throw e;
  }
}

// --- key ------------------------------------------------------------------------------------

async function openKey(json, passphrase, nationalId) {
  status('Opening the key…');
  wallet = Wallet.fromKeyFile(json, passphrase);
  localStorage.setItem('civitas.keyfile', json);
  if (nationalId) localStorage.setItem('civitas.nationalId', nationalId);
  const nid = nationalId || localStorage.getItem('civitas.nationalId');
  subject = nid ? subjectId(chainId, nid) : null;
  $('account').textContent = wallet.account;
  $('subject').textContent = subject || '(enter your national id to see your trail)';
  $('identity').hidden = false;
  $('import-form').hidden = true;
  for (const s of ['credits', 'inbox', 'consents', 'trail', 'sealed']) $(s).hidden = false;
  await refresh();
}

$('import-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  showError('');
  const t0 = performance.now();
  timings.unlockStart = t0;
  try {
    let json = $('keyjson').value.trim();
    const file = $('keyfile').files[0];
    if (file) json = await file.text();
    if (!json) json = localStorage.getItem('civitas.keyfile') || '';
    if (!json) throw new Error('choose or paste a key file first');
    await openKey(json, $('passphrase').value, $('national-id').value.trim());
  } catch (e) {
    showError(e.message);
    status('Key not opened.');
  }
});

$('new-key').addEventListener('click', async () => {
  showError('');
  try {
    const pass = $('passphrase').value;
    if (pass.length < 8) throw new Error('choose a passphrase of at least 8 characters first');
    const w = Wallet.generate('wallet');
    const json = w.keyFile(pass);
    w.free();
    $('keyjson').value = json;
    await openKey(json, pass, $('national-id').value.trim());
  } catch (e) { showError(e.message); }
});

$('lock').addEventListener('click', () => {
  if (wallet) wallet.free();
  wallet = null;
  location.reload();
});
$('refresh').addEventListener('click', () => refresh().catch((e) => showError(e.message)));

// --- consents -------------------------------------------------------------------------------

const ANSWERS = {
  pending: [['approve', 'Approve'], ['reject', 'Reject']],
  active: [['pause', 'Pause'], ['revoke', 'Revoke']],
  paused: [['resume', 'Resume'], ['revoke', 'Revoke']],
};

// Each consent is shown from its artefact as proven against a verified header (its status
// recomputed there at that block's time), never from the fields the node lists beside it.
// `lastUse` maps a consent id to the latest verified granted entry of her trail.
function consentItem(served, proven, approval, lastUse) {
  const c = proven || served;
  const li = el('li', { 'data-consent-id': String(c.id), 'data-status': c.status, 'data-verified': String(!!proven) });
  if (!proven) li.className = 'failed';
  const used = lastUse.get(c.id);
  li.append(
    el('strong', { text: `#${c.id} ${who(c.grantee)}` }), ' asks for ',
    el('em', { text: c.datasets.join(', ') }), ` (${c.mode}) — “${c.purpose}”`,
    el('br'),
    `Status: `, el('span', { class: 'consent-status', text: c.status }),
    ` · uses ${c.uses}/${c.max_uses}`,
    el('span', { class: 'last-use', text: used ? ` · last used ${new Date(used.time_ms).toLocaleString()} (block ${used.height})` : ' · never used' }),
    ` · expires ${new Date(c.expires_ms).toLocaleString()}`,
  );
  if (c.code_hash) {
    li.append(el('br'), `Contract code ${short(c.code_hash)}: `, approvalBadge(approval));
  }
  const check = proven
    ? el('span', { class: 'badge ok consent-check', text: `verified at block ${proven.height}` })
    : el('span', { class: 'badge fail consent-check', role: 'alert', tabindex: '0', title: served.error,
      text: `verification failed: ${served.error}` });
  li.append(el('div', {}, check));
  const div = el('div');
  for (const [action, label] of (proven && ANSWERS[c.status]) || []) {
    const b = el('button', { type: 'button', 'data-action': action, 'aria-label': `${label} consent ${c.id}`, text: label });
    b.addEventListener('click', () => answer(c.id, action, b));
    div.append(b);
  }
  li.append(div);
  return li;
}

function approvalBadge(a) {
  if (!a) return el('span', { class: 'approval', text: 'approval unknown' });
  if (a.error) return el('span', { class: 'approval badge fail', role: 'alert', text: `approval not verified: ${a.error}` });
  return a.approved
    ? el('span', { class: 'approval badge ok', 'data-approved': 'true', text: `approved by regulator ${who(a.regulator)} at block ${a.decided_at} (verified)` })
    : el('span', { class: 'approval refused', 'data-approved': 'false', text: 'NOT approved by a regulator (verified)' });
}

async function checkedApproval(codeHash) {
  try {
    const proof = await rpc('state_getProof', [approvalKey(codeHash)]);
    await verifyHeight(proof.height);
    return JSON.parse(light.checkApproval(JSON.stringify(proof), codeHash));
  } catch (e) {
    return { error: e.message.replace(/^verification failed: /, '') };
  }
}

async function checkedConsent(served) {
  try {
    if (served.proof) await verifyHeight(served.proof.height);
    return JSON.parse(light.checkConsent(JSON.stringify(served), subject || undefined, wallet.account));
  } catch (e) {
    served.error = e.message.replace(/^verification failed: /, '');
    return null;
  }
}

async function loadConsents(lastUse) {
  const list = [];
  for (let after; ;) {
    const page = await rpc('consent_list', [wallet.consentListRequest(Date.now(), after)]);
    list.push(...page);
    if (page.length < Wallet.consentPageSize()) break;
    after = page[page.length - 1].id;
  }
  const proven = await Promise.all(list.map(checkedConsent));
  const codes = [...new Set(proven.map((p, i) => (p || list[i]).code_hash).filter(Boolean))];
  const approvals = new Map(await Promise.all(codes.map(async (h) => [h, await checkedApproval(h)])));
  const items = list.map((served, i) => {
    const c = proven[i] || served;
    return { status: c.status, li: consentItem(served, proven[i], approvals.get(c.code_hash), lastUse) };
  });
  const pending = items.filter((x) => x.status === 'pending').map((x) => x.li);
  const rest = items.filter((x) => x.status !== 'pending').map((x) => x.li);
  $('pending-list').replaceChildren(...pending);
  $('pending-empty').hidden = pending.length > 0;
  $('consent-list').replaceChildren(...rest);
  $('consents-empty').hidden = rest.length > 0;
}

async function waitCommitted(hash) {
  for (let i = 0; i < 600; i++) {
    const s = await rpc('tx_status', [hash]);
    if (s.status === 'committed') return rpc('tx_getReceipt', [hash]);
    if (s.status === 'unknown') throw new Error('the node dropped the transaction');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the answer was not committed within a minute');
}

async function answer(id, action, button) {
  showError('');
  button.disabled = true;
  status(`Sending “${action}” for consent ${id}…`);
  try {
    const [acct, accessKey] = await Promise.all([
      rpc('chain_getAccount', [wallet.account]),
      rpc('chain_getAccessKey'),
    ]);
    const tx = wallet.consentAnswer(chainId, acct.nonce, id, action, accessKey);
    const receipt = await waitCommitted(await rpc('tx_submit', [tx]));
    if (receipt.status !== 'success') {
      const code = receipt.error_code || '';
      const already = /state|answered|status/i.test(code + ' ' + (receipt.error || ''));
      throw new Error(already
        ? `this request was already answered (${receipt.error || code})`
        : `the chain refused “${action}”: ${receipt.error || code}`);
    }
    status(`Consent ${id}: ${action} recorded in block ${receipt.height}.`);
  } catch (e) {
    showError(e.message);
    status('Answer not recorded.');
  } finally {
    await refresh().catch((e) => showError(e.message));
  }
}

// --- trail ----------------------------------------------------------------------------------

function trailRow(served, checked) {
  const e = checked.entry;
  const tr = el('tr', {
    'data-seq': String(checked.seq), 'data-verified': String(checked.verified),
    'data-institution': (e ? e.accessor : served.accessor) || '', 'data-dataset': (e ? e.dataset : served.dataset) || '',
  });
  if (!checked.verified) tr.className = 'failed';
  const cells = e
    ? [String(e.seq ?? checked.seq), `${new Date(e.time_ms).toLocaleString()} (block ${e.height})`,
       who(e.accessor), e.contract ? `${short(e.contract)} code ${short(e.code_hash)}` : '-',
       e.dataset, e.purpose || '-', e.outcome]
    : [String(checked.seq), `block ${served.height} (as the node claims)`, who(served.accessor),
       served.contract ? short(served.contract) : '-', served.dataset, served.purpose || '-',
       served.outcome];
  cells.forEach((text, i) => {
    const td = el('td', { text });
    if (i === 6) { td.classList.add('outcome'); if (text.startsWith('refused')) td.classList.add('refused'); }
    tr.append(td);
  });
  const badge = checked.verified
    ? el('span', { class: 'badge ok', text: 'verified' })
    // Clamped to three lines so a long reason does not make the row tall on a phone; the whole
    // reason is its text (read by screen readers), its title, and shown when it has focus.
    : el('span', { class: 'badge fail', role: 'alert', tabindex: '0', title: checked.error,
      text: `verification failed: ${checked.error}` });
  tr.append(el('td', {}, badge));
  return tr;
}

// The node serves her trail in pages (at most 500 entries each, each page proven against the
// head it was read at): every page is fetched, its header verified and its entries checked.
const TRAIL_PAGE = 500;

async function checkedPage(page) {
  try {
    if (page.height > 0) await verifyHeight(page.height);
    const checked = JSON.parse(light.checkPage(JSON.stringify(page)));
    if (checked.length && checked.every((c) => !c.verified && /state root of verified block/.test(c.error || ''))) {
      await recheckHeight(page.height);
    }
    return checked;
  } catch (e) {
    const msg = e.message.replace(/^verification failed: /, '');
    return page.entries.map((s) => ({ seq: s.seq, verified: false, error: msg, entry: null }));
  }
}

async function loadTrail() {
  if (!subject) return [];
  const served = [];
  const checked = [];
  const heights = new Set();
  let total = 0;
  try {
    do {
      const page = await rpc('audit_listBySubject', [wallet.auditRequest(subject, served.length, TRAIL_PAGE, Date.now())]);
      total = page.total;
      if (page.entries.length === 0) break;
      served.push(...page.entries);
      checked.push(...(await checkedPage(page)));
      heights.add(page.height);
    } while (served.length < total);
  } catch (e) {
    if (!(e instanceof RpcError) || !JSON.stringify(e.data ?? '').includes('not_subject')) throw e;
    $('trail-body').replaceChildren();
    $('trail-summary').textContent = 'Your trail is shown once an identity department has bound your key to your subject.';
    $('trail-summary').className = 'refused';
    return [];
  }
  const bySeq = new Map(served.map((s) => [s.seq, s]));
  $('trail-body').replaceChildren(...checked.map((c) => trailRow(bySeq.get(c.seq), c)));
  buildFilters();
  const bad = checked.filter((c) => !c.verified).length;
  const against = [...heights].sort((x, y) => x - y).map((h) => `block ${h}`).join(', ');
  $('trail-summary').textContent = bad
    ? `${bad} of ${checked.length} entries FAILED verification: do not trust them.`
    : `${checked.length} of ${total} entries, every one verified against ${against}.`;
  $('trail-summary').className = bad ? 'refused' : '';
  if (timings.unlockStart && timings.firstVerifiedTrailMs === undefined && checked.length && !bad) {
    timings.firstVerifiedTrailMs = performance.now() - timings.unlockStart;
    timings.firstVerifiedTrailEntries = checked.length;
  }
  await loadSealed(checked);
  return checked;
}

// The latest granted use of each consent on her verified trail.
function lastUses(checked) {
  const uses = new Map();
  for (const c of checked) {
    const e = c.verified && c.entry;
    if (!e || e.consent == null || !e.outcome.startsWith('granted')) continue;
    const prev = uses.get(e.consent);
    if (!prev || e.height > prev.height) uses.set(e.consent, e);
  }
  return uses;
}

// --- sealed results addressed to her: fetched with a one-time reply key made in the core,
// decrypted there and checked against the committee's attested output hash, itself proven
// against a verified header ------------------------------------------------------------------

function sealedItem(tx, state, text, result) {
  const li = el('li', { 'data-tx': tx, 'data-state': state });
  li.append(el('div', { text: `Sealed call ${short(tx)}` }));
  if (result) {
    li.append(el('div', { text: result.ok ? 'ok' : `error: ${result.error_code}` }));
    li.append(el('code', { class: 'sealed-output', text: result.output }));
  }
  const badge = state === 'verified'
    ? el('span', { class: 'badge ok', text: 'verified against the committee\'s attestation' })
    : el('span', { class: state === 'failed' ? 'badge fail' : 'badge', role: state === 'failed' ? 'alert' : 'status', text });
  li.append(el('div', {}, badge));
  return li;
}

async function sealedOne(tx) {
  let outcome;
  try {
    outcome = await rpc('state_getProof', [sealedOutcomeKey(tx)]);
    await verifyHeight(outcome.height);
    if (!light.sealedAttested(JSON.stringify(outcome), tx)) {
      return sealedItem(tx, 'pending', 'the committee has not attested yet');
    }
  } catch (e) {
    return sealedItem(tx, 'failed', `verification failed: ${e.message.replace(/^verification failed: /, '')}`);
  }
  const req = wallet.sealedOutputRequest(tx, Date.now());
  let envelope;
  try {
    envelope = await rpc('vault_getSealedOutput', [req.request]);
  } catch (e) {
    const code = JSON.stringify((e instanceof RpcError && e.data) || '');
    req.free();
    if (code.includes('not_party')) return sealedItem(tx, 'institution', 'sent to the institution only');
    if (code.includes('sealed_output_pending')) return sealedItem(tx, 'pending', 'the committee has not attested yet');
    return sealedItem(tx, 'failed', `not fetched: ${e.message}`);
  }
  try {
    const r = JSON.parse(light.checkSealed(req, JSON.stringify(outcome), envelope));
    return sealedItem(tx, 'verified', '', r);
  } catch (e) {
    const msg = e.message.replace(/^verification failed: /, '');
    return sealedItem(tx, msg.includes('not attested') ? 'pending' : 'failed',
      msg.includes('not attested') ? msg : `verification FAILED: ${msg}`);
  } finally {
    req.free();
  }
}

async function loadSealed(checked) {
  const txs = [...new Set(checked.filter((c) => c.verified && c.entry.kind === 'sealed_read').map((c) => c.entry.tx_hash))];
  const items = await Promise.all(txs.map((tx) => sealedOne(tx)));
  $('sealed-list').replaceChildren(...items);
  $('sealed-empty').hidden = items.length > 0;
}

// --- identity: is her key bound to her subject? (proven against a verified header) ----------

function showBinding(state, text) {
  const p = $('binding');
  p.dataset.bound = state;
  p.className = state === 'mine' ? '' : 'refused';
  p.textContent = text;
  p.hidden = false;
}

async function loadBinding() {
  if (!subject) {
    showBinding('unknown', 'Enter your national id to see whether your key is bound to your subject.');
    return;
  }
  const proof = await rpc('state_getProof', [identityKey(subject)]);
  let b;
  try {
    await verifyHeight(proof.height);
    b = JSON.parse(light.checkBinding(JSON.stringify(proof), subject, wallet.account));
  } catch (e) {
    showBinding('failed', `Binding not shown: ${e.message}`);
    return;
  }
  if (b.mine) {
    showBinding('mine', `Bound: an identity department bound this key to subject ${b.subject} (verified at block ${b.height}).`);
  } else if (b.bound_account) {
    showBinding('other', `Not your key: subject ${b.subject} is bound to another key (${who(b.bound_account)}). ` +
      'An identity department must bind this key before it can read your trail.');
  } else {
    showBinding('unbound', `Not bound: no key is bound to subject ${b.subject} yet; ` +
      'an identity department must bind your key first.');
  }
}

// --- trail filters: by institution and by dataset, the choices taken from the entries --------

function fillSelect(select, values, label, allText) {
  const keep = select.value;
  const opts = [el('option', { value: '', text: allText })];
  for (const v of [...values].sort((a, b) => label(a).localeCompare(label(b)))) {
    opts.push(el('option', { value: v, text: label(v) }));
  }
  select.replaceChildren(...opts);
  select.value = values.has(keep) ? keep : '';
}

function buildFilters() {
  const rows = [...$('trail-body').rows];
  fillSelect($('filter-institution'), new Set(rows.map((r) => r.dataset.institution).filter(Boolean)),
    (v) => who(v), 'All institutions');
  fillSelect($('filter-dataset'), new Set(rows.map((r) => r.dataset.dataset).filter(Boolean)),
    (v) => v, 'All datasets');
  applyFilters();
}

function applyFilters() {
  const inst = $('filter-institution').value;
  const ds = $('filter-dataset').value;
  const rows = [...$('trail-body').rows];
  let shown = 0;
  for (const r of rows) {
    r.hidden = (inst && r.dataset.institution !== inst) || (ds && r.dataset.dataset !== ds);
    if (!r.hidden) shown += 1;
  }
  $('trail-shown').textContent = inst || ds ? `Showing ${shown} of ${rows.length} entries.` : '';
}
$('filter-institution').addEventListener('change', applyFilters);
$('filter-dataset').addEventListener('change', applyFilters);

// Her balance from her account record, proven against a verified header.
async function loadCredits() {
  const out = $('balance-check');
  let proofHeight = null;
  try {
    const proof = await rpc('state_getProof', [accountKey(wallet.account)]);
    proofHeight = proof.height;
    await verifyHeight(proof.height);
    const b = JSON.parse(light.checkCredits(JSON.stringify(proof), wallet.account));
    $('balance').textContent = b.balance;
    out.replaceChildren(el('span', { class: 'badge ok', text: `verified at block ${b.height}` }));
    out.dataset.verified = 'true';
  } catch (e) {
    if (/fails its proof/.test(e.message) && proofHeight) await recheckHeight(proofHeight).catch(() => {});
    $('balance').textContent = '?';
    out.replaceChildren(el('span', { class: 'badge fail', role: 'alert', text: `verification failed: ${e.message.replace(/^verification failed: /, '')}` }));
    out.dataset.verified = 'false';
  }
}

async function refreshOnce() {
  status('Loading your data…');
  const [checked] = await Promise.all([loadTrail(), loadCredits(), loadBinding()]);
  await loadConsents(lastUses(checked));
  status(`Up to date (${new Date().toLocaleTimeString()}).`);
}

// One refresh at a time: a request for another while one runs is served by one more pass.
let refreshing = null;
let refreshAgain = false;
function refresh() {
  if (refreshing) { refreshAgain = true; return refreshing; }
  document.body.dataset.refreshing = 'true';
  refreshing = (async () => {
    try {
      do { refreshAgain = false; await refreshOnce(); } while (refreshAgain);
    } finally {
      refreshing = null;
      document.body.dataset.refreshing = 'false';
    }
  })();
  return refreshing;
}

// --- explorer: recent blocks and a transaction's receipt, for anyone (no key needed) --------

const EXPLORER_BLOCKS = 8;

function blockRow(height, view, error) {
  const tr = el('tr', { 'data-height': String(height), 'data-verified': String(!!view) });
  if (!view) {
    tr.className = 'failed';
    tr.append(el('td', { text: String(height) }), el('td', { text: '-' }), el('td', { text: '-' }),
      el('td', { text: '-' }), el('td', { text: '-' }),
      el('td', {}, el('span', { class: 'badge fail', role: 'alert', tabindex: '0', title: error, text: `verification failed: ${error}` })));
    return tr;
  }
  const txs = el('td', { class: 'block-txs' });
  txs.append(`${view.txs.length}`);
  for (const tx of view.txs.slice(0, 3)) {
    const b = el('button', { type: 'button', class: 'tx-link', 'data-tx': tx, 'aria-label': `Show the receipt of transaction ${tx}`, text: short(tx) });
    b.addEventListener('click', () => { $('receipt-tx').value = tx; showReceipt(tx); });
    txs.append(' ', b);
  }
  if (view.txs.length > 3) txs.append(` …`);
  tr.append(
    el('td', { text: String(view.height) }),
    el('td', { text: new Date(view.time_ms).toLocaleString() }),
    txs,
    el('td', { text: who(view.proposer) }),
    el('td', { class: 'signers', 'data-signers': String(view.signers.length), text: `${view.signers.length} of ${view.set_size}: ${view.signers.map((a) => names[a] || short(a)).join(', ')}` }),
    el('td', {}, el('span', { class: 'badge ok', text: `verified (round ${view.round})` })),
  );
  return tr;
}

async function explainBlock(height) {
  try {
    await verifyHeight(height);
    let step = stepsByHeight.get(height);
    if (!step) {
      const [block, vals] = await Promise.all([rpc('chain_getBlock', [height]), rpc('chain_getValidators', [height])]);
      step = { raw: block.raw, certificate: block.certificate, validators: vals.validators };
      keepStep(height, step);
    }
    return blockRow(height, JSON.parse(light.blockView(JSON.stringify(step))));
  } catch (e) {
    return blockRow(height, null, e.message.replace(/^verification failed: /, ''));
  }
}

async function loadExplorer() {
  const head = await rpc('chain_getHead');
  const heights = [];
  for (let h = head.height; h >= 1 && heights.length < EXPLORER_BLOCKS; h--) heights.push(h);
  const rows = await Promise.all(heights.map(explainBlock));
  $('blocks-body').replaceChildren(...rows);
}

async function showReceipt(tx) {
  const out = $('receipt-out');
  out.replaceChildren(el('p', { text: `Looking up ${short(tx)}…` }));
  let served;
  try {
    served = await rpc('tx_getReceipt', [tx]);
  } catch (e) {
    out.replaceChildren(el('p', { class: 'refused', role: 'alert', text: e.message }));
    return;
  }
  try {
    await verifyHeight(served.height);
    const r = JSON.parse(light.checkReceipt(JSON.stringify(served), tx));
    const dl = el('dl', { 'data-verified': 'true' });
    const row = (k, v) => dl.append(el('dt', { text: k }), el('dd', { text: v }));
    row('Transaction', r.tx_hash);
    row('Block', `${r.height} (position ${r.index}), ${new Date(r.time_ms).toLocaleString()}`);
    row('Status', r.error_code ? `${r.status}: ${r.error_code}` : r.status);
    row('Fuel used', String(r.fuel_used));
    row('Events', r.events.length ? r.events.map(([c, t]) => `${t} (${who(c)})`).join(', ') : 'none');
    out.replaceChildren(dl, el('span', { class: 'badge ok', text: `receipt verified against block ${r.height}` }));
  } catch (e) {
    out.replaceChildren(el('div', { class: 'failed', 'data-verified': 'false' },
      el('span', { class: 'badge fail', role: 'alert', text: `verification failed: ${e.message.replace(/^verification failed: /, '')}` })));
  }
}

$('receipt-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const tx = $('receipt-tx').value.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(tx)) {
    $('receipt-out').replaceChildren(el('p', { class: 'refused', role: 'alert', text: 'a transaction hash is 0x and 64 hex digits' }));
    return;
  }
  showReceipt(tx.toLowerCase());
});

// --- live updates: new heads over WebSocket (chain_subscribeNewHeads on the same address) -----

const HEAD_DEBOUNCE_MS = 400;
let socket = null;
let headTimer = null;
let reconnectMs = 500;

function onHead(head) {
  document.body.dataset.headsSeen = String(Number(document.body.dataset.headsSeen || 0) + 1);
  document.body.dataset.lastHead = String(head.height);
  clearTimeout(headTimer);
  headTimer = setTimeout(() => {
    loadExplorer().catch((e) => showError(e.message));
    if (wallet) refresh().catch((e) => showError(e.message));
  }, HEAD_DEBOUNCE_MS);
}

function subscribeHeads() {
  const url = new URL('/', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url.href);
  socket = ws;
  ws.addEventListener('open', () => {
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_subscribeNewHeads', params: [] }));
  });
  ws.addEventListener('message', (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg.id === 1 && msg.result !== undefined) {
      reconnectMs = 500;
      document.body.dataset.live = 'connected';
    } else if (msg.params && msg.params.result && typeof msg.params.result.height === 'number') {
      onHead(msg.params.result);
    }
  });
  ws.addEventListener('close', () => {
    if (socket !== ws) return;
    document.body.dataset.live = 'disconnected';
    setTimeout(subscribeHeads, reconnectMs);
    reconnectMs = Math.min(reconnectMs * 2, 30_000);
  });
}

// --- start ----------------------------------------------------------------------------------

try {
  const t0 = performance.now();
  await init();
  timings.wasmInitMs = performance.now() - t0;
  names = JSON.parse(devNames());
  await pinTrustRoot();
  status(localStorage.getItem('civitas.keyfile')
    ? 'Enter your passphrase to open your stored key.'
    : 'Import your key file to begin.');
  subscribeHeads();
  await loadExplorer().catch((e) => showError(e.message));
  document.body.dataset.ready = 'true';
} catch (e) {
  showError(e.message);
  status('The wallet could not start.');
}
