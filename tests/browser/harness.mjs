// What the wallet's browser runs share: a dev node (`civitas node --dev`) on a free port in a
// temporary directory, the CLI against it, alice's chain (her binding, her three records,
// bank-a's approved loan-scoring contract and its consent request), and Debian's headless
// Chromium at a phone-sized viewport.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const civitas = process.env.CIVITAS_BIN || path.join(root, 'target/debug/civitas');
export const walletDir = process.env.CIVITAS_WALLET_DIR || path.join(root, 'target/wallet-www');
export const PASS = 'e2e passphrase';

export function fail(msg) { throw new Error(msg); }

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// A dev node in a fresh directory; `cli`, `must` and `json` run the CLI against it.
export async function devNode(prefix) {
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    CIVITAS_RPC: url,
    CIVITAS_TRUST_DIR: path.join(work, 'trust'),
    CIVITAS_KEYSTORE: path.join(work, 'keys'),
    CIVITAS_KEY_PASSWORD: PASS,
    CIVITAS_WALLET_DIR: walletDir,
  };
  const cli = (...args) => {
    const r = spawnSync(civitas, args, { env, encoding: 'utf8', cwd: root });
    return { ok: r.status === 0, out: (r.stdout || '') + (r.stderr || '') };
  };
  const must = (...args) => {
    const r = cli(...args);
    if (!r.ok) fail(`civitas ${args.join(' ')} failed:\n${r.out}`);
    return r.out.trim();
  };
  const json = (...args) => JSON.parse(must(...args, '--json').split('\n').filter((l) => l.startsWith('{')).pop());
  const proc = spawn(civitas, ['node', '--dev', '--data-dir', path.join(work, 'data'),
    '--rpc-addr', `127.0.0.1:${port}`, '--metrics-addr', '127.0.0.1:0'], { env, stdio: 'ignore' });
  const ready = async () => {
    for (let i = 0; ; i++) {
      if (cli('account', 'tax').ok) return;
      if (i > 600 || proc.exitCode !== null) fail('the dev node did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async () => {
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
    rmSync(work, { recursive: true, force: true });
  };
  return { work, port, url, env, cli, must, json, proc, ready, stop };
}

// Alice bound to her key, her three loan records uploaded, bank-a's loan-scoring contract
// deployed, instantiated and approved, and bank-a's consent request to her (`maxUses` uses).
export function aliceChain({ must, json }, maxUses) {
  const alice = must('identity', 'subject', 'alice');
  must('identity', 'bind', '--subject', 'alice', '--account', 'alice', '--from', 'civil-affairs');
  must('vault', 'upload', '--dataset', 'tax.annual_income', '--subject', 'alice', '--set', 'year=2025',
    '--set', 'gross_income=84000', '--set', 'tax_paid=19000', '--from', 'tax');
  must('vault', 'upload', '--dataset', 'social_security.employment', '--subject', 'alice',
    '--set', 'employer=Northwind Ltd', '--set', 'employed=true', '--set', 'months_employed=38',
    '--set', 'monthly_salary=7000', '--from', 'social-security');
  must('vault', 'upload', '--dataset', 'real_estate.holdings', '--subject', 'alice', '--set', 'properties=1',
    '--set', 'total_value=310000', '--set', 'mortgaged=false', '--from', 'real-estate');
  must('contract', 'build', 'contracts/loan-scoring', '--release');
  const wasm = path.join(root, 'target/civitas/loan-scoring.wasm');
  const code = json('contract', 'check', wasm).code_hash;
  json('contract', 'deploy', wasm, '--from', 'bank-a', '--send');
  const policy = '[{"min_income":30000,"income_multiple":4,"max_amount":300000,"min_months_employed":12,"base_rate_bps":520,"property_discount_bps":40}]';
  const bank = json('contract', 'instantiate', code, '--from', 'bank-a', '--args', policy, '--salt', 'e2e', '--send').output;
  must('code', 'approve', code, '--from', 'regulator');
  const req = json('consent', 'request', '--from', 'bank-a', '--subject', 'alice', '--mode', 'compute',
    '--contract', bank, '--dataset', 'tax.annual_income', '--dataset', 'social_security.employment',
    '--dataset', 'real_estate.holdings', '--purpose', 'mortgage pre-approval', '--max-uses', String(maxUses));
  const id = Buffer.from(req.output.slice(2), 'hex').readUInt32LE(0);
  return { alice, bank, code, id };
}

// Headless Chromium with a fresh profile in `dir`, at a phone-sized viewport.
export function launchBrowser(dir) {
  return chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 412, height: 915 },
  });
}
