import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { initCa, issueClient, issueServer, pkiPaths, readPkiIndex, renew, revoke, writeCrl, keyPoolSettled } from '../../../src/core/pki';
import { buildCert } from '../../../src/core/pki/build';
import { parseCertificate, certToPem } from '../../../src/core/pki/certs';
import { readPrivateKey, toForgePrivateKey, toForgePublicKey } from '../../../src/core/pki/keys';
import { farmWithPki, openssl, opensslMissing, says, snapshot } from '../../support/pki';
import { tempFarm } from '../../support/farm';
import { openFarm } from '../../../src/core/farm/handle';

const repo = path.resolve(__dirname, '..', '..', '..', '..');

test('a duplicate or invalid client name, an unknown name or serial: one sentence, nothing changed', async () => {
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  await keyPoolSettled(); // a race loser from the setup lands in the pool after its call returned
  const before = snapshot(p.dir);
  await assert.rejects(issueClient(await openFarm(root), 'dut1'), says(/Client "dut1" already has a certificate \(serial 03, .*Use `ipxe-farm renew dut1`/));
  for (const bad of ['Bad Name', '../etc', '', 'x'.repeat(64), 'dut\n1', '-dash']) {
    await assert.rejects(issueClient(await openFarm(root), bad), says(/is not allowed: use 1–63 characters/), JSON.stringify(bad));
  }
  await assert.rejects(revoke(root, 'ghost'), says(/No certificate is named "ghost" and none has that serial\. Run `ipxe-farm certs`/));
  await assert.rejects(revoke(root, 'ABCDEF'), says(/none has that serial/));
  await assert.rejects(revoke(root, 'root'), says(/No certificate is named "root"/));
  await assert.rejects(revoke(root, '01'), says(/root CA cannot be revoked/));
  await assert.rejects(revoke(root, 'dut1', { reason: 'boredom' }), says(/"boredom" is not a revocation reason\. Use one of: unspecified, keyCompromise/));
  await assert.rejects(renew(await openFarm(root), 'ghost'), says(/No certificate is named "ghost"/));
  await assert.rejects(initCa(await openFarm(root)), says(/already has a CA .* Keep it, or start a new farm/));
  assert.deepEqual(snapshot(p.dir), before);
});

test('a passphrase-protected CA key is PKCS#8 that openssl opens; a wrong or missing passphrase is refused', async (t) => {
  const root = await tempFarm();
  await initCa(await openFarm(root), { passphrase: 'correct horse' });
  const p = pkiPaths(farmLayout(root));
  assert.match(readFileSync(p.caKey, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  assert.equal(statSync(p.caKey).mode & 0o777, 0o600);
  assert.equal(statSync(p.privateDir).mode & 0o777, 0o700);
  if (!opensslMissing()) {
    assert.equal(openssl(['pkey', '-in', p.caKey, '-passin', 'pass:correct horse', '-noout']).status, 0);
    assert.notEqual(openssl(['pkey', '-in', p.caKey, '-passin', 'pass:wrong', '-noout']).status, 0);
  } else t.diagnostic(opensslMissing()!);
  await keyPoolSettled(); // a race loser from the setup lands in the pool after its call returned
  const before = snapshot(p.dir);
  await assert.rejects(issueClient(await openFarm(root), 'dut1'), says(/is encrypted and no passphrase was given\. Pass --passphrase-stdin/));
  await assert.rejects(issueClient(await openFarm(root), 'dut1', { passphrase: 'wrong horse' }), says(/The passphrase for .*ca\.key is wrong/));
  await assert.rejects(writeCrl(root, { passphrase: 'nope' }), says(/is wrong/));
  assert.deepEqual(snapshot(p.dir), before);
  const rec = await issueClient(await openFarm(root), 'dut1', { passphrase: 'correct horse' });
  assert.equal(rec.name, 'dut1');
  await assert.rejects(initCa(await openFarm(await tempFarm()), { passphrase: 'abc' }), says(/passphrase is too short/));
});

test('a missing CA, a missing or mismatched CA key, an expired or garbled CA, a damaged index: one sentence each', async () => {
  const none = await tempFarm();
  await assert.rejects(issueClient(await openFarm(none), 'dut1'), says(/This farm has no CA yet .* Run `ipxe-farm ca init` first/));
  await assert.rejects(issueServer(await openFarm(none)), says(/no CA yet/));

  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  const goodKey = readFileSync(p.caKey);
  const goodCert = readFileSync(p.caCert);

  rmSync(p.caKey);
  await assert.rejects(issueClient(await openFarm(root), 'dut3'), says(/The CA key .*ca\.key is missing.*Restore it from your backup/));

  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  writeFileSync(p.caKey, other, { mode: 0o600 });
  await keyPoolSettled(); // a race loser from the setup lands in the pool after its call returned
  let before = snapshot(p.dir);
  await assert.rejects(issueClient(await openFarm(root), 'dut3'), says(/does not match the CA certificate/));
  assert.deepEqual(snapshot(p.dir), before);

  writeFileSync(p.caKey, 'not a key');
  await assert.rejects(issueClient(await openFarm(root), 'dut3'), says(/is not a readable private key/));

  // An expired CA: same key, validity long past.
  writeFileSync(p.caKey, goodKey, { mode: 0o600 });
  const key = readPrivateKey(goodKey.toString(), p.caKey);
  const caCert = parseCertificate(goodCert, 'ca');
  const expired = buildCert(
    { profile: 'root', serialDerHex: '7E', subject: caCert.subject.attributes, publicKey: toForgePublicKey(key), days: 30, now: new Date(Date.now() - 400 * 86_400_000) },
    undefined,
    toForgePrivateKey(key),
  );
  writeFileSync(p.caCert, certToPem(expired));
  await keyPoolSettled(); // a race loser from the setup lands in the pool after its call returned
  before = snapshot(p.dir);
  await assert.rejects(issueClient(await openFarm(root), 'dut3'), says(/The CA certificate expired on \d{4}-\d\d-\d\d; nothing it signs would be trusted/));
  assert.deepEqual(snapshot(p.dir), before);

  writeFileSync(p.caCert, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  await assert.rejects(issueClient(await openFarm(root), 'dut3'), says(/is not a valid certificate/));

  writeFileSync(p.caCert, goodCert);
  writeFileSync(p.index, '{"version":1,"records":[');
  await assert.rejects(issueClient(await openFarm(root), 'dut3'), says(/PKI index .* is not valid JSON.*Restore it/));
  await assert.rejects(readPkiIndex(root), says(/not valid JSON/));
});

test('an unwritable directory is refused before anything changes (CLI run as an unprivileged user)', async (t) => {
  const cli = path.join(repo, 'out', 'cli.js');
  if (!existsSync(cli)) return t.skip('SKIPPED LOUDLY: out/cli.js is missing (npm run build)');
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // Root ignores permissions: hand the farm to "nobody" and run the CLI as nobody.
    const chownR = (d: string) => { chownSync(d, 65534, 65534); for (const e of readdirSync(d)) { const f = path.join(d, e); if (statSync(f).isDirectory()) chownR(f); else chownSync(f, 65534, 65534); } };
    chownR(root);
    for (let d = path.dirname(root); d !== '/' && d.startsWith('/tmp/'); d = path.dirname(d)) chmodSync(d, 0o755);
  }
  chmodSync(p.issuedDir, 0o555);
  await keyPoolSettled(); // a race loser from the setup lands in the pool after its call returned
  const before = snapshot(p.dir);
  const r = spawnSync(process.execPath, [cli, 'issue', 'client', 'dut3', '--farm', root], {
    encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534 } : {}), env: { ...process.env, HOME: '/tmp' },
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^ipxe-farm: Cannot write in .*issued: permission denied\. Make .* writable by this user \(nothing was changed\)\.\n$/);
  assert.deepEqual(snapshot(p.dir), before);
  chmodSync(p.issuedDir, 0o755);
});
