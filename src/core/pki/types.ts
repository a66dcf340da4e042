/**
 * The PKI index: what the CA did. Other modules read it (the boot service looks clients up by nginx's
 * `$ssl_client_fingerprint`/`$ssl_client_serial`, the trees show validity), only src/core/pki writes it.
 */
export type CertKind = 'root' | 'server' | 'client' | 'codesign' | 'cross' | 'csr';
export type CertStatus = 'valid' | 'revoked';

export interface CertRecord {
  /** Uppercase hex without leading zeros beyond nginx's form: exactly what `$ssl_client_serial` prints. */
  serial: string;
  kind: CertKind;
  /** Client name for clients; "server", "codesign", "root", or the CN for signed CSRs and cross-signed roots. */
  name: string;
  /** Subject DN, e.g. "CN=dut1,O=lab". */
  subject: string;
  /** SHA-1 of the DER, lowercase hex without colons: exactly what `$ssl_client_fingerprint` prints. */
  sha1: string;
  /** SHA-256 of the DER, lowercase hex without colons (what iPXE's TRUST= embeds for a root). */
  sha256: string;
  /** SHA-256 of the certified public key (SubjectPublicKeyInfo DER): a key is never certified twice via the pool. */
  publicKeySha256?: string;
  notBefore: string; // ISO 8601
  notAfter: string; // ISO 8601
  status: CertStatus;
  revokedAt?: string;
  revocationReason?: string;
  /** Paths relative to pki/. */
  certFile: string;
  keyFile?: string;
  issuedAt: string;
  /** DNS names and IP addresses of a server certificate signed from a CSR. */
  altNames?: string[];
  /** Serial of the certificate this one renewed. */
  renews?: string;
}

export interface PkiIndex {
  version: 1;
  /** Next serial to hand out, hex; serials never repeat, even after a crash between issue and index write. */
  nextSerial: string;
  records: CertRecord[];
  /** Number of the last CRL published (CRLs carry an increasing cRLNumber). */
  crlNumber?: number;
}
