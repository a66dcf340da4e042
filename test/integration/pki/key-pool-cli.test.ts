import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { pkiPaths, readPkiIndex } from '../../../src/core/pki';
import { openssl, opensslMissing } from '../../support/pki';
import { tempFarm } from '../../support/farm';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function modulus(file: string, what: 'rsa' | 'x509'): string {
  const r = openssl([what, '-noout', '-modulus', '-in', file]);
  assert.equal(r.status, 0, `${file}: ${r.out}`);
  return r.stdout.trim();
}

const spareFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.key')) : []);

test('CLI: ca init fills the spare pool; ca pool shows it, --fill tops it up, a bad --fill is a usage error', async (t) => {
  const skip = opensslMissing() ?? (existsSync(cli) ? undefined : 'SKIPPED LOUDLY: out/cli.js is missing (npm run build)');
  if (skip) return t.skip(skip);
  const root = await tempFarm();
  const p = pkiPaths(farmLayout(root));
  assert.equal((await runCli(['ca', 'init', '--farm', root])).code, 0);
  assert.equal(spareFiles(p.spareDir).length, 4, 'ca init leaves 4 spares');
  assert.equal(statSync(p.spareDir).mode & 0o777, 0o700);
  for (const f of spareFiles(p.spareDir)) assert.equal(statSync(path.join(p.spareDir, f)).mode & 0o777, 0o600, f);
  let r = await runCli(['ca', 'pool', '--farm', root]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Key pool .*private\/spare: 4 spare keys; `ipxe-farm ca pool --fill 4` tops it up\.$/m);
  r = await runCli(['ca', 'pool', '--fill', '6', '--json', '--farm', root]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual({ ...JSON.parse(r.stdout), dir: undefined }, { dir: undefined, count: 6, added: 2, discarded: 0 });
  r = await runCli(['ca', 'pool', '--fill', 'lots', '--farm', root]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--fill must be a whole number of keys from 0 to 64, not "lots"\./);
  // Issuance takes a spare and, once its answer is printed, tops the pool up to 4 (never trims a fuller one).
  r = await runCli(['issue', 'client', 'dut1', '--farm', root]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(spareFiles(p.spareDir).length, 5);
  rmSync(p.spareDir, { recursive: true });
  r = await runCli(['issue', 'client', 'dut2', 'dut3', '--farm', root]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(spareFiles(p.spareDir).length, 4);
  rmSync(p.spareDir, { recursive: true });
  r = await runCli(['issue', 'client', 'dut4', '--farm', root]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /dut4/);
  assert.equal(spareFiles(p.spareDir).length, 4, 'a single issuance from an empty pool leaves it full for the next');
});

test('two CLI processes issuing at once with one spare in the pool never get the same key (moduli by openssl); every certificate verifies', async (t) => {
  const skip = opensslMissing() ?? (existsSync(cli) ? undefined : 'SKIPPED LOUDLY: out/cli.js is missing (npm run build)');
  if (skip) return t.skip(skip);
  const root = await tempFarm();
  const p = pkiPaths(farmLayout(root));
  assert.equal((await runCli(['ca', 'init', '--farm', root])).code, 0);
  const seen = new Map<string, string>();
  for (let round = 0; round < 4; round++) {
    rmSync(p.spareDir, { recursive: true, force: true });
    const fill = await runCli(['ca', 'pool', '--fill', '1', '--farm', root]);
    assert.equal(fill.code, 0, fill.stderr);
    const spare = modulus(path.join(p.spareDir, spareFiles(p.spareDir)[0]!), 'rsa');
    const names = [`a${round}`, `b${round}`];
    const runs = await Promise.all(names.map((n) => runCli(['issue', 'client', n, '--farm', root])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const moduli = names.map((n) => modulus(p.clientKey(n), 'rsa'));
    assert.notEqual(moduli[0], moduli[1], `round ${round}: both clients got the same key`);
    assert.ok(moduli.includes(spare), `round ${round}: one of them took the spare`);
    names.forEach((n, i) => {
      assert.equal(modulus(p.clientCert(n), 'x509'), moduli[i], `${n}: certificate and key are a pair`);
      assert.ok(!seen.has(moduli[i]!), `${n} has the key of ${seen.get(moduli[i]!)}`);
      seen.set(moduli[i]!, n);
    });
    for (const f of spareFiles(p.spareDir)) assert.ok(!seen.has(modulus(path.join(p.spareDir, f), 'rsa')), `spare ${f} was issued`);
  }
  const index = await readPkiIndex(root);
  const certs = index.records.filter((r) => r.kind === 'client').map((r) => path.join(p.dir, r.certFile));
  assert.equal(certs.length, 8);
  const v = openssl(['verify', '-CAfile', p.caCert, ...certs]);
  assert.equal(v.status, 0, v.out);
  assert.equal((v.stdout.match(/: OK$/gm) ?? []).length, 8);
  const s = spawnSync(process.execPath, [cli, 'certs', '--json', '--farm', root], { encoding: 'utf8' });
  assert.equal(JSON.parse(s.stdout).length, 9);
});
