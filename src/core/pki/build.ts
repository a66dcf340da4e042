import * as net from 'node:net';
import forge from 'node-forge';
import type { Signer } from './keys';

/**
 * Certificate shapes iPXE accepts (DESIGN.md §2): RSA, SHA-256, positive serial, no AIA/OCSP URL, and no critical
 * extension other than basicConstraints, keyUsage, extKeyUsage, subjectAltName. The authorityKeyIdentifier is the
 * ISSUER's key id (forge's `keyIdentifier: true` would write the certificate's own).
 */
export type Profile = 'root' | 'server' | 'client' | 'codesign' | 'cross';

export interface Issuer {
  cert: forge.pki.Certificate;
  /** A forge private key, or nativeSigner(KeyObject): same signatures, much faster. */
  key: Signer;
}

export interface CertSpec {
  profile: Profile;
  serialDerHex: string;
  subject: forge.pki.CertificateField[];
  publicKey: forge.pki.rsa.PublicKey;
  days: number;
  /** DNS names and IP addresses (server certificates). */
  altNames?: string[];
  now?: Date;
}

/** iPXE checks validity with a ±12.5 h margin; backdating by one hour covers ordinary clock skew without hiding it. */
const BACKDATE_MS = 60 * 60_000;

export function subjectFields(parts: { commonName: string; organization?: string; country?: string }): forge.pki.CertificateField[] {
  const out: forge.pki.CertificateField[] = [];
  if (parts.country) out.push({ shortName: 'C', value: parts.country });
  if (parts.organization) out.push({ shortName: 'O', value: parts.organization });
  out.push({ shortName: 'CN', value: parts.commonName });
  return out;
}

export function altName(value: string): { type: number; value?: string; ip?: string } {
  return net.isIP(value) ? { type: 7, ip: value } : { type: 2, value };
}

function profileExtensions(profile: Profile, altNames: string[] | undefined): object[] {
  switch (profile) {
    case 'root':
    case 'cross':
      return [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ];
    case 'server':
      return [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        ...(altNames && altNames.length ? [{ name: 'subjectAltName', altNames: altNames.map(altName) }] : []),
      ];
    case 'client':
      return [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
        ...(altNames && altNames.length ? [{ name: 'subjectAltName', altNames: altNames.map(altName) }] : []),
      ];
    case 'codesign':
      return [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', codeSigning: true },
      ];
  }
}

/** Build and sign. `issuer` undefined: self-signed root (its own key signs, `selfKey`). */
export function buildCert(spec: CertSpec, issuer: Issuer | undefined, selfKey?: Signer): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = spec.serialDerHex;
  cert.publicKey = spec.publicKey;
  // Whole seconds: that is all X.509 time encodes, and the index must record exactly what the certificate says.
  const now = new Date(Math.floor((spec.now ?? new Date()).getTime() / 1000) * 1000);
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  let notAfter = new Date(now.getTime() + spec.days * 86_400_000);
  // A leaf that outlives its CA fails in iPXE and nginx anyway; cap it so the expiry report tells the truth.
  if (issuer && notAfter > issuer.cert.validity.notAfter) notAfter = new Date(issuer.cert.validity.notAfter.getTime());
  cert.validity.notAfter = notAfter;
  cert.setSubject(spec.subject);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : spec.subject);
  const issuerKeyId = issuer ? issuer.cert.generateSubjectKeyIdentifier().getBytes() : cert.generateSubjectKeyIdentifier().getBytes();
  cert.setExtensions([
    ...profileExtensions(spec.profile, spec.altNames),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: issuerKeyId },
  ]);
  const signer = issuer ? issuer.key : selfKey;
  if (!signer) throw new Error('buildCert: a self-signed certificate needs its own key');
  cert.sign(signer as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return cert;
}
