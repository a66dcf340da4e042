import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { crlStatus, issueClient, issueServer, pkiPaths, readPkiIndex, revoke, currentCert } from '../../../src/core/pki';
import { farmWithPki, openssl, opensslMissing } from '../../support/pki';
import { openFarm } from '../../../src/core/farm/handle';

/** Every extension openssl shows, with whether it is critical. */
function extensions(certFile: string): Map<string, boolean> {
  const text = openssl(['x509', '-in', certFile, '-noout', '-text']).stdout;
  const out = new Map<string, boolean>();
  for (const m of text.matchAll(/^\s+(X509v3 [^:]+|Authority Information Access|[A-Za-z ]+):\s*(critical)?$/gm)) out.set(m[1]!.trim(), m[2] === 'critical');
  return out;
}

test('openssl accepts every issued certificate; each has only iPXE-safe extensions, SHA-256, RSA, the issuer\'s key id', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  const index = await readPkiIndex(root);
  assert.equal(index.records.length, 5);
  for (const f of [p.serverCert, p.clientCert('dut1'), p.clientCert('dut2'), p.codesignCert]) {
    const v = openssl(['verify', '-x509_strict', '-CAfile', p.caCert, f]);
    assert.equal(v.status, 0, `${f}: ${v.out}`);
  }
  const caSki = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(openssl(['x509', '-in', p.caCert, '-noout', '-text']).stdout)![1];
  for (const f of [p.caCert, p.serverCert, p.clientCert('dut1'), p.codesignCert]) {
    const text = openssl(['x509', '-in', f, '-noout', '-text']).stdout;
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Public Key Algorithm: rsaEncryption/);
    assert.doesNotMatch(text, /Authority Information Access|OCSP|CA Issuers/);
    const aki = /Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(text)![1];
    assert.equal(aki, caSki, `${f}: authorityKeyIdentifier must be the CA's subjectKeyIdentifier`);
    for (const [name, critical] of extensions(f)) {
      if (critical) assert.ok(['X509v3 Basic Constraints', 'X509v3 Key Usage', 'X509v3 Extended Key Usage', 'X509v3 Subject Alternative Name'].includes(name), `${f}: ${name} is critical`);
    }
  }
  const ca = openssl(['x509', '-in', p.caCert, '-noout', '-text']).stdout;
  assert.match(ca, /X509v3 Basic Constraints: critical\s*\n\s*CA:TRUE/);
  assert.match(ca, /X509v3 Key Usage: critical\s*\n\s*Certificate Sign, CRL Sign/);
  assert.match(ca, /Subject: O = testfarm, CN = testfarm farm root CA/);
  const server = openssl(['x509', '-in', p.serverCert, '-noout', '-text']).stdout;
  assert.match(server, /TLS Web Server Authentication/);
  assert.match(server, /IP Address:127\.0\.0\.1, DNS:localhost, IP Address:10\.0\.2\.100/);
  assert.equal(openssl(['verify', '-purpose', 'sslserver', '-CAfile', p.caCert, p.serverCert]).status, 0);
  assert.equal(openssl(['verify', '-purpose', 'sslclient', '-CAfile', p.caCert, p.clientCert('dut1')]).status, 0);
  assert.notEqual(openssl(['verify', '-purpose', 'sslclient', '-CAfile', p.caCert, p.serverCert]).status, 0, 'a server cert is no client cert');
  const client = openssl(['x509', '-in', p.clientCert('dut1'), '-noout', '-subject', '-ext', 'extendedKeyUsage']).stdout;
  assert.match(client, /CN = dut1/);
  assert.match(client, /TLS Web Client Authentication/);
  const cs = openssl(['x509', '-in', p.codesignCert, '-noout', '-ext', 'keyUsage,extendedKeyUsage']).stdout;
  assert.match(cs, /Digital Signature/);
  assert.match(cs, /Code Signing/);
  // The chain nginx serves: server first, then the CA (iPXE's TRUST= holds only the CA's fingerprint).
  const chain = readFileSync(p.serverChain, 'utf8');
  assert.equal(chain, readFileSync(p.serverCert, 'utf8') + readFileSync(p.caCert, 'utf8'));
  // Keys are the other half of their certificates.
  for (const [crt, key] of [[p.serverCert, p.serverKey], [p.clientCert('dut1'), p.clientKey('dut1')], [p.codesignCert, p.codesignKey]] as const) {
    assert.equal(openssl(['x509', '-in', crt, '-noout', '-pubkey']).stdout, openssl(['pkey', '-in', key, '-pubout']).stdout, `${key} matches ${crt}`);
    assert.match(readFileSync(key, 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/, 'PKCS#1, the form every iPXE build takes');
  }
});

test('index serials and fingerprints equal what openssl (and so nginx) prints', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  for (const r of (await readPkiIndex(root)).records) {
    const f = path.join(p.dir, r.certFile);
    assert.equal(openssl(['x509', '-in', f, '-noout', '-serial']).stdout.trim(), `serial=${r.serial}`);
    const sha1 = openssl(['x509', '-in', f, '-noout', '-fingerprint', '-sha1']).stdout.trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
    assert.equal(r.sha1, sha1);
    const sha256 = openssl(['x509', '-in', f, '-noout', '-fingerprint', '-sha256']).stdout.trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
    assert.equal(r.sha256, sha256);
    assert.equal(r.subject, r.kind === 'root' ? 'CN=testfarm farm root CA,O=testfarm' : r.subject);
  }
});

test('a serial with the top bit set stays positive and prints as nginx prints it', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  writeFileSync(p.serialFile, '7F\n'); // high-water mark: the next serial is 0x80
  const rec = await issueClient(await openFarm(root), 'highbit');
  assert.equal(rec.serial, '80');
  const f = path.join(p.dir, rec.certFile);
  assert.equal(openssl(['x509', '-in', f, '-noout', '-serial']).stdout.trim(), 'serial=80');
  assert.match(openssl(['asn1parse', '-in', f]).stdout, /INTEGER\s+:80\b/, 'DER INTEGER 0080: positive');
  assert.equal(openssl(['verify', '-x509_strict', '-CAfile', p.caCert, f]).status, 0);
});

test('revocation: the CRL (PEM and DER) makes openssl reject the revoked certificate and accept the others', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  const crlCheck = (f: string) => openssl(['verify', '-crl_check', '-CRLfile', p.crlPem, '-CAfile', p.caCert, f]);
  assert.equal(crlCheck(p.clientCert('dut2')).status, 0, 'the initial CRL is empty but valid');
  const rec = await revoke(root, 'dut2', { reason: 'keyCompromise' });
  assert.equal(rec.status, 'revoked');
  const bad = crlCheck(p.clientCert('dut2'));
  assert.notEqual(bad.status, 0);
  assert.match(bad.out, /certificate revoked/);
  assert.equal(crlCheck(p.clientCert('dut1')).status, 0, bad.out);
  assert.equal(crlCheck(p.serverCert).status, 0);
  const crl = openssl(['crl', '-in', p.crlDer, '-inform', 'DER', '-noout', '-text', '-CAfile', p.caCert]);
  assert.match(crl.out, /verify OK/);
  assert.match(crl.out, new RegExp(`Serial Number: ${rec.serial}`));
  assert.match(crl.out, /Key Compromise/);
  assert.match(crl.out, /CRL Number: \s*\n?\s*2/);
  assert.equal((await readPkiIndex(root)).crlNumber, 2);
  const info = (await crlStatus(root))!;
  assert.equal(info.revoked, 1);
  const year = info.nextUpdate.getTime() - info.thisUpdate.getTime();
  assert.ok(Math.abs(year - 365 * 86_400_000) < 60_000, 'a CRL is good for a year: nginx refuses everyone after nextUpdate');
  // Revoking by serial works too, and a revoked one cannot be revoked twice.
  const dut1 = currentCert(await readPkiIndex(root), 'client', 'dut1')!;
  await revoke(root, dut1.serial);
  assert.notEqual(crlCheck(p.clientCert('dut1')).status, 0);
  await assert.rejects(revoke(root, dut1.serial), /already revoked/);
});

test('re-issuing the server after its names change supersedes the old one', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const { updateFarm } = await import('../../../src/core/farm/load');
  await updateFarm(root, (raw) => { (raw.server as { names: string[] }).names.push('boot.lab.example', '::1'); });
  const before = currentCert(await readPkiIndex(root), 'server', 'server')!;
  const after = await issueServer(await openFarm(root));
  const p = pkiPaths(farmLayout(root));
  assert.match(openssl(['x509', '-in', p.serverCert, '-noout', '-ext', 'subjectAltName']).stdout, /DNS:boot\.lab\.example, IP Address:0:0:0:0:0:0:0:1/);
  assert.equal(after.renews, before.serial);
  const idx = await readPkiIndex(root);
  assert.equal(idx.records.find((r) => r.serial === before.serial)!.revocationReason, 'superseded');
  assert.equal(currentCert(idx, 'server', 'server')!.serial, after.serial);
});

test('a 3072-bit root with country and organisation from the farm still signs 2048-bit leaves openssl accepts', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const { tempFarm } = await import('../../support/farm');
  const { updateFarm } = await import('../../../src/core/farm/load');
  const { initCa } = await import('../../../src/core/pki');
  const root = await tempFarm('bigroot');
  await updateFarm(root, (raw) => { Object.assign(raw.ca as object, { keyBits: 3072, country: 'GB', organization: 'Lab, Ltd', caDays: 30, clientDays: 400 }); });
  const ca = await initCa(await openFarm(root));
  const p = pkiPaths(farmLayout(root));
  const text = openssl(['x509', '-in', p.caCert, '-noout', '-text']).stdout;
  assert.match(text, /Public-Key: \(3072 bit\)/);
  assert.match(text, /Subject: C = GB, O = "Lab, Ltd", CN = bigroot farm root CA/);
  assert.equal(ca.subject, 'CN=bigroot farm root CA,O=Lab\\, Ltd,C=GB');
  const leaf = await issueClient(await openFarm(root), 'dut1');
  assert.equal(openssl(['verify', '-x509_strict', '-CAfile', p.caCert, p.clientCert('dut1')]).status, 0);
  assert.match(openssl(['x509', '-in', p.clientCert('dut1'), '-noout', '-text']).stdout, /Public-Key: \(2048 bit\)/);
  assert.equal(leaf.notAfter, ca.notAfter, 'a leaf never outlives its CA');
});
