import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { pkiPaths } from '../../../src/core/pki';
import { openssl, opensslMissing } from '../../support/pki';
import { tempFarm } from '../../support/farm';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const run = (root: string, args: string[], input?: string) =>
  spawnSync(process.execPath, [cli, ...args, '--farm', root], { encoding: 'utf8', input: input ?? '' });

test('CLI: the whole CA workflow with a passphrase from stdin, --json answers, exit codes 0/1/2', async (t) => {
  const skip = opensslMissing() ?? (existsSync(cli) ? undefined : 'SKIPPED LOUDLY: out/cli.js is missing (npm run build)');
  if (skip) return t.skip(skip);
  const root = await tempFarm();
  const p = pkiPaths(farmLayout(root));
  const pass = 'lab passphrase\n';
  let r = run(root, ['ca', 'init', '--passphrase-stdin', '--json'], pass);
  assert.equal(r.status, 0, r.stderr);
  const ca = JSON.parse(r.stdout);
  assert.equal(ca.kind, 'root');
  assert.match(ca.sha256, /^[0-9a-f]{64}$/);

  r = run(root, ['issue', 'server']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ipxe-farm: The CA key .* is encrypted and no passphrase was given\. Pass --passphrase-stdin/);
  r = run(root, ['issue', 'server', '--passphrase-stdin'], 'wrong\n');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /passphrase for .* is wrong/);
  for (const args of [['issue', 'server'], ['issue', 'codesign'], ['issue', 'client', 'dut1', 'dut2']]) {
    r = run(root, [...args, '--passphrase-stdin'], pass);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Issued /);
  }
  assert.match(r.stdout, /private\/clients\/dut2\.key \(0600\)/);
  assert.equal(openssl(['verify', '-CAfile', p.caCert, p.serverCert, p.clientCert('dut1'), p.codesignCert]).status, 0);

  r = run(root, ['certs', '--json']);
  const certs = JSON.parse(r.stdout) as Array<{ name: string; daysLeft: number }>;
  assert.deepEqual(certs.map((c) => c.name), ['root', 'server', 'codesign', 'dut1', 'dut2']);
  r = run(root, ['certs']);
  assert.match(r.stdout, /^SERIAL\s+KIND\s+NAME\s+NOT AFTER\s+STATE\s+SHA-1$/m);
  assert.match(run(root, ['certs', '--expiring', '30']).stdout, /Nothing expires within 30 days/);
  const exp = run(root, ['certs', '--expiring', '400', '--json']);
  assert.match(exp.stderr, /The CRL's next update is \d{4}-\d\d-\d\d: run `ipxe-farm crl` before then/);
  const expiring = JSON.parse(exp.stdout) as Array<{ name: string }>;
  assert.deepEqual(expiring.map((c) => c.name).sort(), ['dut1', 'dut2'], 'clients last 365 days, server 825');

  r = run(root, ['revoke', 'dut2', '--reason', 'keyCompromise', '--passphrase-stdin', '--json'], pass);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).status, 'revoked');
  assert.notEqual(openssl(['verify', '-crl_check', '-CRLfile', p.crlPem, '-CAfile', p.caCert, p.clientCert('dut2')]).status, 0);
  r = run(root, ['renew', 'dut1', '--passphrase-stdin'], pass);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Renewed: client "dut1" serial 06/);
  r = run(root, ['crl', '--passphrase-stdin'], pass);
  assert.equal(r.status, 0, r.stderr);

  const file = path.join(root, 'files', 'boot.ipxe');
  writeFileSync(file, '#!ipxe\necho hi\n');
  r = run(root, ['sign', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', `${file}.sig`, '-content', file, '-CAfile', p.caCert, '-purpose', 'any', '-out', '/dev/null']).status, 0);

  const ext = path.join(root, 'ext');
  mkdirSync(ext);
  assert.equal(openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k', '-out', 'r.csr', '-subj', '/CN=ext1'], { cwd: ext }).status, 0);
  r = run(root, ['sign-csr', path.join(ext, 'r.csr'), '--passphrase-stdin', '--json'], pass);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).name, 'ext1');
  assert.equal(openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'o.key', '-out', 'o.crt', '-subj', '/CN=Other Root', '-days', '3'], { cwd: ext }).status, 0);
  r = run(root, ['cross-sign', path.join(ext, 'o.crt'), '--passphrase-stdin'], pass);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /issued\/cross\/other-root\.crt/);

  // Usage errors exit 2; refusals exit 1; both in one line on stderr.
  for (const args of [['revoke'], ['certs', '--expiring', 'soon'], ['sign-csr', 'a', 'b'], ['issue', 'client'], ['sign-csr', 'x.csr', '--profile', 'router']]) {
    r = run(root, args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  r = run(root, ['issue', 'client', 'dut1', '--passphrase-stdin'], pass);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /already has a certificate/);
  r = run(root, ['issue', 'client', 'Bad_Name', '--json']);
  assert.equal(r.status, 2, 'a bad name is a usage error, as in `client set` (issue 14)');
  assert.match(JSON.parse(r.stdout).error, /is not allowed/);
});
