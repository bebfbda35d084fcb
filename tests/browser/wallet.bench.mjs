// `scripts/bench wallet`: the citizen wallet's page weight and time to first verified trail on
// a dev chain with at least 1,000 audit entries. Banks score alice in sealed calls (three
// datasets each: three entries per call) until her trail holds WALLET_BENCH_ENTRIES entries
// (default 1000); then a fresh headless Chromium opens /wallet/, imports her key and unlocks
// it, and the page reports when every entry of every page of her trail is verified (headers
// by certificate, entries by Merkle proof). Prints the figures and one JSON line each.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PASS, aliceChain, devNode, fail, launchBrowser, walletDir } from './harness.mjs';

const want = Number(process.env.WALLET_BENCH_ENTRIES || 1000);
const dev = await devNode('civitas-wallet-bench-');
let browser;
try {
  await dev.ready();
  const calls = Math.ceil(want / 3);
  const { alice, bank, id } = aliceChain(dev, calls + 1);
  dev.must('consent', 'approve', String(id), '--from', 'alice');
  const t0 = Date.now();
  for (let i = 0; i < calls; i++) {
    const r = dev.cli('sealed', 'call', bank, 'score', `["${alice}", 250000]`, '--from', 'bank-a',
      '--read', 'alice:tax.annual_income,social_security.employment,real_estate.holdings');
    if (!r.ok) fail(`sealed call ${i + 1} failed:\n${r.out}`);
    if ((i + 1) % 50 === 0) console.log(`  ${i + 1}/${calls} sealed calls (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }

  const keyFile = path.join(dev.work, 'alice.json');
  dev.must('key', 'dev', 'alice', '--out', keyFile);
  mkdirSync(path.join(dev.work, 'chromium'), { recursive: true });
  browser = await launchBrowser(path.join(dev.work, 'chromium'));
  const page = await browser.newPage();
  page.setDefaultTimeout(120_000);
  await page.goto(`${dev.url}/wallet/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.setInputFiles('#keyfile', keyFile);
  await page.fill('#passphrase', PASS);
  await page.fill('#national-id', 'alice-national-id');
  await page.click('#open-key');
  await page.waitForFunction(() => window.civitasTimings.firstVerifiedTrailMs !== undefined);
  const timings = await page.evaluate(() => window.civitasTimings);
  const rows = await page.$$eval('#trail-body tr', (trs) => trs.map((t) => t.dataset.verified));
  if (rows.length < want || !rows.every((v) => v === 'true')) {
    fail(`${rows.length} rows, ${rows.filter((v) => v !== 'true').length} not verified`);
  }
  const transferred = await page.evaluate(() => performance.getEntriesByType('resource')
    .concat(performance.getEntriesByType('navigation'))
    .filter((e) => new URL(e.name).pathname.startsWith('/wallet/'))
    .reduce((n, e) => n + (e.encodedBodySize || 0), 0));
  const files = readdirSync(walletDir).map((f) => statSync(path.join(walletDir, f)).size);
  const weight = files.reduce((a, b) => a + b, 0);
  const wasm = statSync(path.join(walletDir, 'civitas_wallet_bg.wasm')).size;
  console.log(`wallet page: ${weight} bytes in ${files.length} files (wasm ${wasm}); ${transferred} bytes of /wallet/ fetched by the page`);
  console.log(`first verified trail: ${timings.firstVerifiedTrailMs.toFixed(0)} ms after unlock (Argon2id key opening included), ` +
    `${timings.firstVerifiedTrailEntries} entries, every one verified (goal: under 2,000 ms; wasm under 1 MB)`);
  for (const [name, value, bound] of [
    ['first_verified_trail_ms', timings.firstVerifiedTrailMs, 2000],
    ['trail_entries', timings.firstVerifiedTrailEntries, null],
    ['wasm_bytes', wasm, 1_000_000],
    ['page_bytes', weight, null],
  ]) {
    console.log(JSON.stringify({ bench: 'wallet', name, value, bound }));
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  await dev.stop();
}
