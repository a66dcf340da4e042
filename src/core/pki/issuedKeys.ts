import { createHash, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import forge from 'node-forge';
import type { PkiPaths } from './paths';
import type { PkiIndex } from './types';

/**
 * Which public keys this CA has ever certified, by the SHA-256 of their SubjectPublicKeyInfo (DER). The spare-key pool
 * asks before handing a key out: a restored backup of spare/ holds keys that already belong to a machine, and a key
 * must never belong to two.
 */

export function publicKeySha256(key: KeyObject): string {
  return createHash('sha256').update(createPublicKey(key).export({ type: 'spki', format: 'der' })).digest('hex');
}

export function certPublicKeySha256(cert: forge.pki.Certificate): string {
  const der = forge.asn1.toDer(forge.pki.publicKeyToAsn1(cert.publicKey)).getBytes();
  return createHash('sha256').update(Buffer.from(der, 'binary')).digest('hex');
}

/** Every certified key's hash; records written before the index kept it are read from their certificate file once. */
export async function issuedKeyHashes(index: PkiIndex, paths: PkiPaths): Promise<Set<string>> {
  const out = new Set<string>();
  for (const r of index.records) {
    if (r.publicKeySha256) { out.add(r.publicKeySha256); continue; }
    try {
      const pem = await fsp.readFile(path.join(paths.dir, r.certFile), 'utf8');
      out.add(publicKeySha256(new X509Certificate(pem).publicKey));
    } catch { /* a record whose file is gone: its key cannot come back through the pool unnoticed by the hash above */ }
  }
  return out;
}
