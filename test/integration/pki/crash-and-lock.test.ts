import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { currentCert, pkiPaths, readPkiIndex } from '../../../src/core/pki';
import { farmWithPki, openssl, opensslMissing } from '../../support/pki';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');

function runCli(args: string[], killAfterMs?: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => { if (timer) clearTimeout(timer); resolve({ code, signal, stderr }); });
  });
}

function modulus(file: string, what: 'rsa' | 'x509'): string {
  const r = openssl([what, '-noout', '-modulus', '-in', file]);
  assert.equal(r.status, 0, `${file}: ${r.out}`);
  return r.stdout.trim();
}

/**
 * No key serves two certificates, no spare in the pool is a key already issued, every certificate's key is its own,
 * and no key sits at a serial the index does not know (moduli read by openssl).
 */
function checkKeysUsedOnce(root: string, records: Array<{ certFile: string; keyFile?: string; kind: string }>): void {
  const p = pkiPaths(farmLayout(root));
  const issued = new Map<string, string>();
  for (const r of records.filter((x) => x.keyFile && x.kind !== 'root')) {
    const m = modulus(path.join(p.dir, r.keyFile!), 'rsa');
    assert.equal(modulus(path.join(p.dir, r.certFile), 'x509'), m, `${r.certFile}: the key at ${r.keyFile} is its own`);
    assert.ok(!issued.has(m), `${r.keyFile} and ${issued.get(m)} are the same key`);
    issued.set(m, r.keyFile!);
  }
  const spareFiles = existsSync(p.spareDir) ? readdirSync(p.spareDir).filter((f) => f.endsWith('.key')) : [];
  for (const f of spareFiles) assert.ok(!issued.has(modulus(path.join(p.spareDir, f), 'rsa')), `spare ${f} is the key of ${issued.get(modulus(path.join(p.spareDir, f), 'rsa'))}`);
  const known = new Set(records.flatMap((r) => (r.keyFile ? [path.basename(r.keyFile)] : [])));
  const strays = readdirSync(p.privateSerialsDir).filter((f) => f.endsWith('.key') && !known.has(f));
  assert.deepEqual(strays, [], 'no key at a serial the index does not know');
}

/** The invariants a crash must never break. */
async function checkConsistent(root: string): Promise<void> {
  const p = pkiPaths(farmLayout(root));
  const index = await readPkiIndex(root);
  const serials = index.records.map((r) => r.serial);
  assert.equal(new Set(serials).size, serials.length, 'serials are unique');
  const max = serials.reduce((m, s) => (BigInt(`0x${s}`) > m ? BigInt(`0x${s}`) : m), 0n);
  assert.ok(BigInt(`0x${index.nextSerial}`) > max, 'nextSerial is above every serial handed out');
  const bundle = index.records.map((r) => path.join(p.dir, r.certFile));
  for (const f of bundle) assert.ok(existsSync(f), `${f} exists`);
  // One openssl call verifies them all.
  const v = openssl(['verify', '-CAfile', p.caCert, ...bundle.filter((f) => !f.endsWith('/01.crt'))]);
  assert.equal(v.status, 0, v.out);
  assert.equal((v.stdout.match(/: OK$/gm) ?? []).length, bundle.length - 1);
  for (const r of index.records) {
    const der = openssl(['x509', '-in', path.join(p.dir, r.certFile), '-noout', '-fingerprint', '-sha1']).stdout.trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
    assert.equal(der, r.sha1, `${r.certFile}: the index fingerprint is the file's`);
  }
  // The current files of every valid client are the ones the index names, key and certificate a pair.
  for (const r of index.records.filter((x) => x.kind === 'client' && x.status === 'valid')) {
    assert.equal(readFileSync(p.clientCert(r.name), 'utf8'), readFileSync(path.join(p.dir, r.certFile), 'utf8'), `${r.name}: current cert`);
    assert.equal(readFileSync(p.clientKey(r.name), 'utf8'), readFileSync(path.join(p.dir, r.keyFile!), 'utf8'), `${r.name}: current key`);
  }
  checkKeysUsedOnce(root, index.records);
  assert.ok(!existsSync(p.journal), 'no unfinished journal after a clean run');
  assert.ok(!existsSync(path.join(p.dir, '.lock')), 'no lock left behind after a clean run');
}

test('SIGKILL at random moments during 50 CLI issuances leaves a consistent index: unique serials, every record verifies', async (t) => {
  const skip = opensslMissing() ?? (existsSync(cli) ? undefined : 'SKIPPED LOUDLY: out/cli.js is missing (npm run build)');
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  // How long one issuance takes here, so the kills land across its whole life (start-up, keygen, writes).
  const t0 = Date.now();
  const first = await runCli(['issue', 'client', 'probe', '--farm', root]);
  assert.equal(first.code, 0, first.stderr);
  const span = Date.now() - t0;
  let killed = 0;
  let finished = 0;
  for (let i = 0; i < 50; i++) {
    const r = await runCli(['issue', 'client', `crash${i}`, '--farm', root], Math.floor(Math.random() * span * 1.6));
    if (r.signal === 'SIGKILL') killed++;
    else { assert.equal(r.code, 0, r.stderr); finished++; }
  }
  t.diagnostic(`one issuance ≈ ${span} ms; ${killed} killed, ${finished} finished`);
  assert.ok(killed > 0, 'some runs were killed');
  // The next run takes over the dead run's lock, finishes or drops its half-done work, and succeeds.
  const after = await runCli(['issue', 'client', 'after-crash', '--farm', root]);
  assert.equal(after.code, 0, after.stderr);
  await checkConsistent(root);
  // A name whose issuance was killed before the index learnt of it can be issued now; one that made it is refused.
  const index = await readPkiIndex(root);
  const names = Array.from({ length: 50 }, (_, i) => `crash${i}`);
  const lost = names.filter((n) => !currentCert(index, 'client', n)).slice(0, 5);
  const kept = names.filter((n) => currentCert(index, 'client', n)).slice(0, 2);
  for (const name of lost) {
    const r = await runCli(['issue', 'client', name, '--farm', root]);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const name of kept) assert.match((await runCli(['issue', 'client', name, '--farm', root])).stderr, /already has a certificate/);
  await checkConsistent(root);
  const p = pkiPaths(farmLayout(root));
  const leftovers = [p.dir, p.issuedDir, p.serialsDir, p.privateDir, p.privateSerialsDir, p.clientsDir, p.clientKeysDir]
    .flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.tmp')));
  assert.deepEqual(leftovers, [], 'temp files of killed runs are cleaned up');
});

test('two CLI processes issuing at once never take the same serial', async (t) => {
  const skip = opensslMissing() ?? (existsSync(cli) ? undefined : 'SKIPPED LOUDLY: out/cli.js is missing (npm run build)');
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const names = (prefix: string) => Array.from({ length: 8 }, (_, i) => `${prefix}${i}`);
  const runs = await Promise.all([
    runCli(['issue', 'client', ...names('a'), '--farm', root]),
    runCli(['issue', 'client', ...names('b'), '--farm', root]),
    runCli(['issue', 'client', 'c0', '--farm', root]),
    runCli(['issue', 'client', 'c1', '--farm', root]),
  ]);
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const index = await readPkiIndex(root);
  assert.equal(index.records.length, 5 + 18);
  await checkConsistent(root);
  const s = spawnSync(process.execPath, [cli, 'certs', '--json', '--farm', root], { encoding: 'utf8' });
  assert.equal(JSON.parse(s.stdout).length, 23);
});

test('SIGKILL at random moments while CLI issuances claim spare keys: no key is used twice, the index stays consistent', async (t) => {
  const skip = opensslMissing() ?? (existsSync(cli) ? undefined : 'SKIPPED LOUDLY: out/cli.js is missing (npm run build)');
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const fill = await runCli(['ca', 'pool', '--fill', '32', '--farm', root]);
  assert.equal(fill.code, 0, fill.stderr);
  const p = pkiPaths(farmLayout(root));
  const t0 = Date.now();
  const first = await runCli(['issue', 'client', 'probe', '--farm', root]);
  assert.equal(first.code, 0, first.stderr);
  const span = Date.now() - t0;
  assert.equal(readdirSync(p.spareDir).length, 31, 'the probe took a spare');
  let killed = 0;
  for (let i = 0; i < 30; i++) {
    const r = await runCli(['issue', 'client', `claim${i}`, '--farm', root], Math.floor(Math.random() * span * 1.4));
    if (r.signal === 'SIGKILL') killed++;
    else assert.equal(r.code, 0, r.stderr);
  }
  t.diagnostic(`one issuance with a spare ≈ ${span} ms; ${killed} of 30 killed; ${readdirSync(p.spareDir).length} spares left`);
  assert.ok(killed > 0, 'some runs were killed');
  const after = await runCli(['issue', 'client', 'after-crash', '--farm', root]);
  assert.equal(after.code, 0, after.stderr);
  const issued = (await readPkiIndex(root)).records.filter((r) => r.name.startsWith('claim') || r.name === 'after-crash').length;
  t.diagnostic(`${31 - readdirSync(p.spareDir).filter((f) => f.endsWith('.key')).length - issued} spares were claimed by runs killed before their index write`);
  await checkConsistent(root);
});
