import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { currentCert, keyPoolSettled, pkiPaths, readPkiIndex } from '../../../src/core/pki';
import { farmWithPki, openssl, opensslMissing, snapshot } from '../../support/pki';

// Finding 8 of issue 13: a CSR with CN=dut1 was recorded under the name of client dut1 (then `revoke dut1` and
// `renew dut1` failed), and `--profile server` copied any SAN of the CSR (`*.example.com`) without a word.

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ipxeFarm = (args: string[], cwd: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd });

function mkCsr(dir: string, name: string, extra: string[]): string {
  mkdirSync(dir, { recursive: true });
  const r = openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, ...extra], { cwd: dir });
  assert.equal(r.status, 0, r.out);
  return path.join(dir, `${name}.csr`);
}

test('sign-csr: a CSR named like client dut1 is refused (nothing written); under its own --name, revoke dut1 still finds the client', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki('csrnames');
  await keyPoolSettled();
  const p = pkiPaths(farmLayout(root));
  const csr = mkCsr(path.join(root, 'ext'), 'shadow', ['-subj', '/CN=dut1']);
  const before = snapshot(p.dir);
  const r = ipxeFarm(['sign-csr', csr], root);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /"dut1" is already the name of client certificate .*names are unique across kinds.*--name/);
  assert.deepEqual(snapshot(p.dir), before, 'nothing written');
  for (const taken of ['server', 'codesign', 'root']) {
    assert.equal(ipxeFarm(['sign-csr', csr, '--name', taken], root).status, 1, `--name ${taken} is refused too`);
  }
  const ok = ipxeFarm(['sign-csr', csr, '--name', 'ext-dut1'], root);
  assert.equal(ok.status, 0, ok.stderr);
  const rv = ipxeFarm(['revoke', 'dut1'], root);
  assert.equal(rv.status, 0, rv.stderr);
  const index = await readPkiIndex(root);
  assert.equal(currentCert(index, 'client', 'dut1'), undefined, 'the client was revoked');
  assert.ok(currentCert(index, 'csr', 'ext-dut1'), 'the CSR\'s certificate was not');
});

test('sign-csr --profile server: SANs outside the farm\'s names are refused unless --allow-names lists them, and are printed', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki('csrsans');
  const p = pkiPaths(farmLayout(root));
  const csr = mkCsr(path.join(root, 'ext'), 'web', ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,DNS:*.example.com']);
  const before = snapshot(p.dir);
  const r = ipxeFarm(['sign-csr', csr, '--profile', 'server', '--name', 'web'], root);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /\*\.example\.com/);
  assert.match(r.stderr, /--allow-names/);
  assert.deepEqual(snapshot(p.dir), before, 'nothing written');
  const ok = ipxeFarm(['sign-csr', csr, '--profile', 'server', '--name', 'web', '--allow-names', '*.example.com'], root);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /names: localhost, \*\.example\.com \(allowed by --allow-names: \*\.example\.com\)/);
  const text = openssl(['x509', '-in', p.csrCert('web'), '-noout', '-ext', 'subjectAltName']).stdout;
  assert.match(text, /DNS:localhost, DNS:\*\.example\.com/);
  const inFarm = mkCsr(path.join(root, 'ext'), 'lo', ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  assert.equal(ipxeFarm(['sign-csr', inFarm, '--profile', 'server', '--name', 'lo'], root).status, 0, 'the farm\'s own names need no flag');
});
