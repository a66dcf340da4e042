import { constants, createPrivateKey, createPublicKey, generateKeyPair, KeyObject, privateEncrypt } from 'node:crypto';
import forge from 'node-forge';
import { FarmError } from '../errors';

/**
 * Key pairs come from Node's native RSA generator (forge's JS generator takes seconds per key); everything done WITH
 * the keys (certificates, CRLs, CMS signatures) is node-forge. Leaf keys are written as PKCS#1 ("BEGIN RSA PRIVATE
 * KEY"), the form every iPXE build takes as PRIVKEY=; the CA key is PKCS#8, encrypted when a passphrase is given.
 */
export type KeyBits = 2048 | 3072 | 4096;

export function newRsaKey(bits: KeyBits = 2048): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv)));
  });
}

export function leafKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs1', format: 'pem' }) as string;
}

export function caKeyPem(key: KeyObject, passphrase?: string): string {
  if (passphrase === undefined) return key.export({ type: 'pkcs8', format: 'pem' }) as string;
  if (passphrase.length < 4) throw new FarmError('The CA passphrase is too short.', 'Use at least 4 characters.', 'EPASSPHRASE');
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
}

export function isEncryptedKeyPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type:\s*4,ENCRYPTED/.test(pem);
}

/** Parse a private key PEM (any common form); wrong or missing passphrase and garbage get one clear sentence. */
export function readPrivateKey(pem: string, file: string, passphrase?: string): KeyObject {
  const encrypted = isEncryptedKeyPem(pem);
  if (encrypted && passphrase === undefined) {
    throw new FarmError(`The CA key ${file} is encrypted and no passphrase was given.`, 'Pass --passphrase-stdin (or enter it when asked).', 'EPASSPHRASE');
  }
  try {
    const key = createPrivateKey(encrypted ? { key: pem, format: 'pem', passphrase } : { key: pem, format: 'pem' });
    if (key.asymmetricKeyType !== 'rsa') {
      throw new FarmError(`The key ${file} is ${key.asymmetricKeyType}, not RSA.`, 'iPXE Farm keys are RSA; use an RSA key.', 'EKEY');
    }
    return key;
  } catch (err) {
    if (err instanceof FarmError) throw err;
    if (encrypted) throw new FarmError(`The passphrase for ${file} is wrong.`, 'Enter the passphrase the CA was created with.', 'EPASSPHRASE');
    throw new FarmError(`${file} is not a readable private key (${(err as Error).message}).`, 'Restore it from a backup, or point at the right file.', 'EKEY');
  }
}

/** forge's view of a native key, for signing. */
export function toForgePrivateKey(key: KeyObject): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }) as string) as forge.pki.rsa.PrivateKey;
}

export function toForgePublicKey(key: KeyObject): forge.pki.rsa.PublicKey {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return forge.pki.publicKeyFromPem(pub.export({ type: 'spki', format: 'pem' }) as string) as forge.pki.rsa.PublicKey;
}

/** True when the private key is the other half of the certificate's public key (compare modulus and exponent). */
export function keyMatchesCert(key: KeyObject, cert: forge.pki.Certificate): boolean {
  const certPub = cert.publicKey as forge.pki.rsa.PublicKey;
  const jwk = createPublicKey(key).export({ format: 'jwk' }) as { n?: string; e?: string };
  if (!jwk.n || !certPub.n) return false;
  const n = BigInt(`0x${Buffer.from(jwk.n, 'base64url').toString('hex')}`);
  const e = BigInt(`0x${Buffer.from(jwk.e ?? '', 'base64url').toString('hex') || '0'}`);
  return n === BigInt(`0x${certPub.n.toString(16)}`) && e === BigInt(`0x${certPub.e.toString(16)}`);
}

/** What forge's cert.sign(), and our CRL and CMS builders, need from a private key: sign(md) -> signature bytes. */
export interface Signer {
  sign(md: forge.md.MessageDigest): string;
}

/**
 * forge's own RSA signing is pure JavaScript (tens of milliseconds per signature, far more on a busy machine). forge
 * still builds every structure and the PKCS#1 v1.5 DigestInfo; only the private-key exponentiation runs natively
 * (RSA_PKCS1_PADDING = EMSA-PKCS1-v1_5 type 1 padding). The signature is byte-for-byte the one forge computes (a unit
 * test checks it): PKCS#1 v1.5 signatures are deterministic.
 */
export function nativeSigner(key: KeyObject): Signer {
  return {
    sign(md) {
      const oid = forge.pki.oids[md.algorithm];
      if (!oid) throw new Error(`unknown digest ${md.algorithm}`);
      const digestInfo = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SEQUENCE, true, [
        forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SEQUENCE, true, [
          forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OID, false, forge.asn1.oidToDer(oid).getBytes()),
          forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.NULL, false, ''),
        ]),
        forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, md.digest().getBytes()),
      ]);
      const der = Buffer.from(forge.asn1.toDer(digestInfo).getBytes(), 'binary');
      return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, der).toString('binary');
    },
  };
}
