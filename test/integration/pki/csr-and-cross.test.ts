import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { crossSign, pkiPaths, readPkiIndex, signCsr, signCsrFile, keyPoolSettled } from '../../../src/core/pki';
import { farmWithPki, openssl, opensslMissing, says, snapshot } from '../../support/pki';
import { openFarm } from '../../../src/core/farm/handle';

function mkCsr(dir: string, name: string, extra: string[] = [], newkey = ['-newkey', 'rsa:2048']): string {
  mkdirSync(dir, { recursive: true });
  const r = openssl(['req', '-new', ...newkey, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, ...extra], { cwd: dir });
  assert.equal(r.status, 0, r.out);
  return path.join(dir, `${name}.csr`);
}

test('sign-csr: a CSR made by openssl is signed as a client (or server) certificate, subject kept, key stays outside', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  const dir = path.join(root, 'ext');
  const csr = mkCsr(dir, 'box', ['-subj', '/O=elsewhere/CN=Lab Box 7']);
  const rec = await signCsrFile(await openFarm(root), csr);
  assert.equal(rec.kind, 'csr');
  assert.equal(rec.name, 'lab-box-7');
  assert.equal(rec.keyFile, undefined, 'the CA never sees that key');
  const crt = p.csrCert('lab-box-7');
  assert.equal(openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', p.caCert, crt]).status, 0);
  assert.match(openssl(['x509', '-in', crt, '-noout', '-subject']).stdout, /subject=O = elsewhere, CN = Lab Box 7/);
  assert.equal(openssl(['x509', '-in', crt, '-noout', '-pubkey']).stdout, openssl(['pkey', '-in', path.join(dir, 'box.key'), '-pubout']).stdout);

  const srv = mkCsr(dir, 'web', ['-subj', '/CN=web.lab', '-addext', 'subjectAltName=DNS:web.lab,IP:10.1.2.3']);
  const srec = await signCsr(await openFarm(root), readFileSync(srv, 'utf8'), { profile: 'server', allowNames: ['web.lab', '10.1.2.3'] });
  const text = openssl(['x509', '-in', path.join(p.dir, srec.certFile), '-noout', '-text']).stdout;
  assert.match(text, /DNS:web\.lab, IP Address:10\.1\.2\.3/);
  assert.match(text, /TLS Web Server Authentication/);
  await assert.rejects(signCsrFile(await openFarm(root), csr), says(/already signed from a CSR/));
});

test('sign-csr refuses a bad CSR in one sentence and changes nothing on disk', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  const dir = path.join(root, 'ext');
  const caCsr = readFileSync(mkCsr(dir, 'ca', ['-subj', '/CN=sneaky', '-addext', 'basicConstraints=critical,CA:TRUE']), 'utf8');
  const ecCsr = readFileSync(mkCsr(dir, 'ec', ['-subj', '/CN=ec'], ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']), 'utf8');
  const good = readFileSync(mkCsr(dir, 'good', ['-subj', '/CN=good']), 'utf8');
  // Flip one bit of the signature (the last bytes of the DER) and re-wrap: the self-signature no longer verifies.
  const der = Buffer.from(good.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  der[der.length - 5] = der[der.length - 5]! ^ 0x01;
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  const noCn = readFileSync(mkCsr(dir, 'nocn', ['-subj', '/O=only-org']), 'utf8');
  await keyPoolSettled(); // a race loser from the setup lands in the pool after its call returned
  const before = snapshot(p.dir);
  await assert.rejects(signCsr(await openFarm(root), caCsr), says(/asks for a CA certificate \(basicConstraints CA:TRUE\)/));
  await assert.rejects(signCsr(await openFarm(root), ecCsr), says(/non-RSA key/));
  await assert.rejects(signCsr(await openFarm(root), tampered), says(/signature does not verify/));
  await assert.rejects(signCsr(await openFarm(root), '-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgQ1NS\n-----END CERTIFICATE REQUEST-----\n'), says(/malformed certificate request/));
  await assert.rejects(signCsr(await openFarm(root), 'hello'), says(/not a certificate request/));
  await assert.rejects(signCsr(await openFarm(root), noCn), says(/no common name/));
  await assert.rejects(signCsrFile(await openFarm(root), path.join(dir, 'missing.csr')), says(/Cannot read the CSR/));
  assert.deepEqual(snapshot(p.dir), before);
  assert.equal((await readPkiIndex(root)).records.length, 5);
});

test('cross-sign: a foreign root becomes trusted through the farm CA (preserveDN, CA:TRUE, the root\'s key)', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  const dir = path.join(root, 'other');
  mkdirSync(dir);
  const run = (args: string[]) => { const r = openssl(args, { cwd: dir }); assert.equal(r.status, 0, r.out); };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'o.key', '-out', 'o.crt', '-days', '30', '-subj', '/C=GB/O=Other/CN=Other Root']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf']);
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'o.crt', '-CAkey', 'o.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '5']);
  const leaf = path.join(dir, 'leaf.crt');
  assert.notEqual(openssl(['verify', '-CAfile', p.caCert, leaf]).status, 0, 'not trusted before cross-signing');
  const rec = await crossSign(await openFarm(root), readFileSync(path.join(dir, 'o.crt')));
  assert.equal(rec.kind, 'cross');
  assert.equal(rec.name, 'other-root');
  const cross = p.crossCert('other-root');
  const v = openssl(['verify', '-CAfile', p.caCert, '-untrusted', cross, leaf]);
  assert.equal(v.status, 0, v.out);
  const text = openssl(['x509', '-in', cross, '-noout', '-text']).stdout;
  assert.match(text, /Subject: C = GB, O = Other, CN = Other Root/);
  assert.match(text, /Issuer: O = testfarm, CN = testfarm farm root CA/);
  assert.match(text, /Basic Constraints: critical\s*\n\s*CA:TRUE/);
  assert.match(text, /Key Usage: critical\s*\n\s*Certificate Sign, CRL Sign/);
  assert.equal(openssl(['x509', '-in', cross, '-noout', '-pubkey']).stdout, openssl(['x509', '-in', path.join(dir, 'o.crt'), '-noout', '-pubkey']).stdout);
  await keyPoolSettled(); // a race loser from the setup lands in the pool after its call returned
  const before = snapshot(p.dir);
  await assert.rejects(crossSign(await openFarm(root), readFileSync(leaf)), says(/not a self-signed root/));
  await assert.rejects(crossSign(await openFarm(root), readFileSync(p.caCert)), says(/farm's own CA/));
  await assert.rejects(crossSign(await openFarm(root), 'junk'), says(/not a certificate/));
  await assert.rejects(crossSign(await openFarm(root), readFileSync(path.join(dir, 'o.crt'))), says(/already cross-signed/));
  assert.deepEqual(snapshot(p.dir), before);
});
