import forge from 'node-forge';
import { serialToDerHex } from './serial';
import type { Issuer } from './build';
import type { CertRecord } from './types';

/**
 * forge has no CRL builder, so the X.509 v2 CRL (RFC 5280 §5) is assembled with forge.asn1 and signed with forge's
 * RSA. nginx's `ssl_crl` and `openssl verify -crl_check` read it.
 */
const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

/** Reason names as openssl prints them; the index keeps the name, the CRL the code. */
export const REVOCATION_REASONS: Record<string, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

function time(d: Date): forge.asn1.Asn1 {
  // RFC 5280: UTCTime through 2049, GeneralizedTime after.
  return d.getUTCFullYear() < 2050
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(d))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}

function ext(oid: string, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  return asn1.create(U, T.SEQUENCE, true, [
    asn1.create(U, T.OID, false, asn1.oidToDer(oid).getBytes()),
    asn1.create(U, T.OCTETSTRING, false, asn1.toDer(value).getBytes()),
  ]);
}

function sha256WithRsa(): forge.asn1.Asn1 {
  return asn1.create(U, T.SEQUENCE, true, [
    asn1.create(U, T.OID, false, asn1.oidToDer(forge.pki.oids.sha256WithRSAEncryption!).getBytes()),
    asn1.create(U, T.NULL, false, ''),
  ]);
}

function integerFromHex(hex: string): forge.asn1.Asn1 {
  return asn1.create(U, T.INTEGER, false, forge.util.hexToBytes(hex));
}

export interface CrlOptions {
  number: number;
  thisUpdate?: Date;
  /** Clients are refused once a CRL is past nextUpdate, so publish long-lived CRLs and re-publish on revoke. */
  nextUpdate: Date;
}

/** DER bytes (binary string) of a CRL listing every revoked record. */
export function buildCrl(ca: Issuer, revoked: CertRecord[], opts: CrlOptions): string {
  const thisUpdate = opts.thisUpdate ?? new Date();
  const entries = revoked.map((r) => {
    const fields = [integerFromHex(serialToDerHex(BigInt(`0x${r.serial}`))), time(new Date(r.revokedAt ?? thisUpdate))];
    const code = r.revocationReason && Object.hasOwn(REVOCATION_REASONS, r.revocationReason) ? REVOCATION_REASONS[r.revocationReason] : undefined;
    if (code !== undefined && code !== 0) {
      fields.push(asn1.create(U, T.SEQUENCE, true, [ext('2.5.29.21', asn1.create(U, T.ENUMERATED, false, String.fromCharCode(code)))]));
    }
    return asn1.create(U, T.SEQUENCE, true, fields);
  });
  const aki = asn1.create(U, T.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, ca.cert.generateSubjectKeyIdentifier().getBytes()),
  ]);
  const crlNumber = asn1.create(U, T.INTEGER, false, asn1.integerToDer(opts.number).getBytes());
  const tbs = asn1.create(U, T.SEQUENCE, true, [
    asn1.create(U, T.INTEGER, false, asn1.integerToDer(1).getBytes()), // v2
    sha256WithRsa(),
    forge.pki.distinguishedNameToAsn1(ca.cert.subject),
    time(thisUpdate),
    time(opts.nextUpdate),
    ...(entries.length ? [asn1.create(U, T.SEQUENCE, true, entries)] : []),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(U, T.SEQUENCE, true, [ext('2.5.29.35', aki), ext('2.5.29.20', crlNumber)]),
    ]),
  ]);
  const md = forge.md.sha256.create();
  md.update(asn1.toDer(tbs).getBytes());
  const signature = ca.key.sign(md);
  const crl = asn1.create(U, T.SEQUENCE, true, [tbs, sha256WithRsa(), asn1.create(U, T.BITSTRING, false, `\x00${signature}`)]);
  return asn1.toDer(crl).getBytes();
}

export function crlToPem(der: string): string {
  return forge.pem.encode({ type: 'X509 CRL', body: der }).replace(/\r\n/g, '\n');
}

export interface CrlInfo {
  thisUpdate: Date;
  nextUpdate: Date;
  revoked: number;
}

/** Read back the dates of a published CRL (DER): after nextUpdate, nginx refuses every client, so reports warn early. */
export function readCrlInfo(der: string): CrlInfo {
  const crl = asn1.fromDer(der);
  const tbs = (crl.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  // version, signature, issuer, thisUpdate, nextUpdate, [revokedCertificates], [extensions]
  const toDate = (n: forge.asn1.Asn1) => (n.type === T.UTCTIME ? asn1.utcTimeToDate(n.value as string) : asn1.generalizedTimeToDate(n.value as string));
  const list = tbs[5] && tbs[5].tagClass === U && tbs[5].type === T.SEQUENCE ? (tbs[5].value as forge.asn1.Asn1[]).length : 0;
  return { thisUpdate: toDate(tbs[3]!), nextUpdate: toDate(tbs[4]!), revoked: list };
}
