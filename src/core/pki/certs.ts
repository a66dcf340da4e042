import { createHash } from 'node:crypto';
import forge from 'node-forge';
import { FarmError } from '../errors';
import { certPublicKeySha256 } from './issuedKeys';
import { normaliseSerial } from './serial';
import type { CertKind, CertRecord } from './types';

/** DER bytes of a certificate, as a Buffer. */
export function certDer(cert: forge.pki.Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

/** Lowercase hex, no colons: nginx's `$ssl_client_fingerprint` (SHA-1) and iPXE's TRUST= (SHA-256). */
export function fingerprints(der: Buffer): { sha1: string; sha256: string } {
  return {
    sha1: createHash('sha1').update(der).digest('hex'),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}

// RFC 4514 escaping, as nginx's `$ssl_client_s_dn` prints it.
function escapeDnValue(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

/** "CN=dut1,O=lab": most specific first, like nginx's `$ssl_client_s_dn`. */
export function dnString(attrs: forge.pki.CertificateField[]): string {
  return [...attrs].reverse().map((a) => `${a.shortName ?? a.name ?? a.type}=${escapeDnValue(String(a.value))}`).join(',');
}

export function commonName(cert: forge.pki.Certificate | forge.pki.CertificateSigningRequest): string | undefined {
  const f = cert.subject.getField('CN') as forge.pki.CertificateField | null;
  return f ? String(f.value) : undefined;
}

export function certSerial(cert: forge.pki.Certificate): string {
  return normaliseSerial(cert.serialNumber) ?? cert.serialNumber.toUpperCase();
}

export function recordFor(
  cert: forge.pki.Certificate,
  kind: CertKind,
  name: string,
  files: { certFile: string; keyFile?: string },
  extra: Partial<CertRecord> = {},
): CertRecord {
  const fp = fingerprints(certDer(cert));
  return {
    serial: certSerial(cert),
    kind,
    name,
    subject: dnString(cert.subject.attributes),
    sha1: fp.sha1,
    sha256: fp.sha256,
    publicKeySha256: certPublicKeySha256(cert),
    notBefore: cert.validity.notBefore.toISOString(),
    notAfter: cert.validity.notAfter.toISOString(),
    status: 'valid',
    certFile: files.certFile,
    ...(files.keyFile ? { keyFile: files.keyFile } : {}),
    issuedAt: new Date().toISOString(),
    ...extra,
  };
}

/** Every PEM block of one type in a text; what a user hands us may hold a chain or stray text around it. */
export function pemBlocks(text: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return text.match(re) ?? [];
}

/** One certificate from PEM or DER bytes; anything else is one clear sentence about `what`. */
export function parseCertificate(data: Buffer | string, what: string): forge.pki.Certificate {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  try {
    const pem = pemBlocks(text, 'CERTIFICATE')[0];
    if (pem) return forge.pki.certificateFromPem(pem);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (bytes[0] === 0x30) return forge.pki.certificateFromAsn1(forge.asn1.fromDer(bytes.toString('binary')));
  } catch (err) {
    const msg = (err as Error).message;
    if (/OID is not RSA/i.test(msg)) {
      throw new FarmError(`${what} holds a non-RSA key.`, 'iPXE Farm signs RSA certificates only; use an RSA certificate.', 'ECERT');
    }
    throw new FarmError(`${what} is not a valid certificate (${msg.replace(/\.$/, '')}).`, 'Pass a PEM or DER X.509 certificate.', 'ECERT');
  }
  throw new FarmError(`${what} is not a certificate: no "BEGIN CERTIFICATE" block and not DER.`, 'Pass a PEM or DER X.509 certificate.', 'ECERT');
}

export function certToPem(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}
