import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { nativeSigner, toForgePrivateKey, toForgePublicKey, keyMatchesCert } from '../../../src/core/pki/keys';
import { buildCert, subjectFields } from '../../../src/core/pki/build';

const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

test('the native RSA step gives byte-for-byte the signature forge computes (PKCS#1 v1.5 is deterministic)', () => {
  for (const text of ['', 'abc', 'x'.repeat(10_000)]) {
    const md1 = forge.md.sha256.create();
    md1.update(text);
    const md2 = forge.md.sha256.create();
    md2.update(text);
    assert.equal(nativeSigner(key).sign(md1), toForgePrivateKey(key).sign(md2));
  }
});

test('a certificate signed through the native step verifies with forge, and its key matches it', () => {
  const cert = buildCert(
    { profile: 'root', serialDerHex: '01', subject: subjectFields({ commonName: 'unit CA' }), publicKey: toForgePublicKey(key), days: 1 },
    undefined,
    nativeSigner(key),
  );
  assert.ok(cert.verify(cert));
  assert.ok(keyMatchesCert(key, cert));
  assert.equal(keyMatchesCert(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, cert), false);
  const aki = cert.getExtension('authorityKeyIdentifier') as { value: string } | null;
  assert.ok(aki, 'root carries an authorityKeyIdentifier equal to its own key id');
});
