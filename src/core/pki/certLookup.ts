import type { CertKind, CertRecord, PkiIndex } from './types';
import { normaliseSerial } from './serial';

/**
 * Finding a certificate in the index by what nginx passes: `$ssl_client_fingerprint` (SHA-1, lowercase hex) or
 * `$ssl_client_serial` (uppercase hex). The index holds exactly those forms (indexSchema.ts), so only the question is
 * normalised; one rule for the CA's lookups and the boot service's.
 */
export function normaliseFingerprint(fp: string): string {
  return fp.trim().toLowerCase().replace(/:/g, '');
}

export function findByFingerprint(index: PkiIndex, sha1: string): CertRecord | undefined {
  const want = normaliseFingerprint(sha1);
  return index.records.find((r) => r.sha1 === want);
}

export function findBySerial(index: PkiIndex, serialHex: string): CertRecord | undefined {
  const want = normaliseSerial(serialHex);
  return want === undefined ? undefined : index.records.find((r) => r.serial === want);
}

/** The newest certificate of that kind and name that is not revoked (expired ones count: the caller decides). */
export function currentCert(index: PkiIndex, kind: CertKind, name?: string): CertRecord | undefined {
  let best: CertRecord | undefined;
  for (const r of index.records) {
    if (r.kind !== kind || r.status !== 'valid' || (name !== undefined && r.name !== name)) continue;
    if (!best || BigInt(`0x${r.serial}`) > BigInt(`0x${best.serial}`)) best = r;
  }
  return best;
}

/** The same lookups as tables built once per index load (the boot service), so a request costs one map lookup. */
export class CertLookup {
  private bySha1 = new Map<string, CertRecord>();
  private bySerial = new Map<string, CertRecord>();
  private byName = new Map<string, CertRecord[]>();

  /** `problem`: the index could not be read, so every certificate is refused with this reason. */
  constructor(readonly index: PkiIndex, readonly problem?: string) {
    for (const r of index.records) {
      this.bySha1.set(r.sha1, r);
      this.bySerial.set(r.serial, r);
      if (r.kind === 'client') this.byName.set(r.name, [...(this.byName.get(r.name) ?? []), r]);
    }
  }

  byFingerprint(fp: string): CertRecord | undefined {
    // nginx already sends the normalised form: the raw value is tried first, a hit on it is the same record.
    return this.bySha1.get(fp) ?? this.bySha1.get(normaliseFingerprint(fp));
  }

  bySerialNumber(serial: string): CertRecord | undefined {
    const want = normaliseSerial(serial);
    return want === undefined ? undefined : this.bySerial.get(want);
  }

  /** A client's certificates, newest first. */
  ofClient(name: string): CertRecord[] {
    return [...(this.byName.get(name) ?? [])].sort((a, b) => b.issuedAt.localeCompare(a.issuedAt));
  }
}
