import * as fsp from 'node:fs/promises';
import { FarmError } from '../errors';
import type { FarmLayout } from '../farm/layout';
import { pkiPaths } from '../pki/paths';
import type { CertRecord, PkiIndex } from '../pki/types';

/**
 * The boot service only reads the PKI index (src/core/pki writes it). An absent index is an empty one: a farm without
 * a CA simply has no known client yet, and every request is refused with that reason.
 */
export async function readIndexForBoot(layout: FarmLayout): Promise<PkiIndex> {
  const file = pkiPaths(layout).index;
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nextSerial: '01', records: [] };
    throw new FarmError(`Cannot read the PKI index ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FarmError(`The PKI index ${file} is not valid JSON: ${(err as Error).message}.`, 'Restore it from a backup; only `ipxe-farm` should write it.', 'EPKIINDEX');
  }
  const idx = raw as Partial<PkiIndex>;
  if (!idx || !Array.isArray(idx.records)) {
    throw new FarmError(`The PKI index ${file} has no "records" list.`, 'Restore it from a backup; only `ipxe-farm` should write it.', 'EPKIINDEX');
  }
  return { version: 1, nextSerial: String(idx.nextSerial ?? '01'), records: idx.records as CertRecord[] };
}

/** nginx's $ssl_client_fingerprint form: lowercase hex, no colons. */
export function normaliseFingerprint(fp: string): string {
  return fp.trim().toLowerCase().replace(/:/g, '');
}

/** nginx's $ssl_client_serial form: uppercase hex; leading zeros are not significant. */
export function normaliseSerial(serial: string): string {
  const s = serial.trim().toUpperCase().replace(/:/g, '').replace(/^0+(?=.)/, '');
  return s;
}

/** Lookup tables built once per index load, so a request costs one map lookup. */
export class CertLookup {
  private bySha1 = new Map<string, CertRecord>();
  private bySerial = new Map<string, CertRecord>();
  private byName = new Map<string, CertRecord[]>();

  /** `problem`: the index could not be read, so every certificate is refused with this reason. */
  constructor(readonly index: PkiIndex, readonly problem?: string) {
    for (const r of index.records) {
      if (typeof r.sha1 === 'string') this.bySha1.set(normaliseFingerprint(r.sha1), r);
      if (typeof r.serial === 'string') this.bySerial.set(normaliseSerial(r.serial), r);
      if (r.kind === 'client') this.byName.set(r.name, [...(this.byName.get(r.name) ?? []), r]);
    }
  }

  byFingerprint(fp: string): CertRecord | undefined {
    // nginx already sends the normalised form; the keys are normalised, so a hit on the raw value is the same record.
    return this.bySha1.get(fp) ?? this.bySha1.get(normaliseFingerprint(fp));
  }

  bySerialNumber(serial: string): CertRecord | undefined {
    return this.bySerial.get(normaliseSerial(serial));
  }

  /** A client's certificates, newest first. */
  ofClient(name: string): CertRecord[] {
    return [...(this.byName.get(name) ?? [])].sort((a, b) => (b.issuedAt ?? '').localeCompare(a.issuedAt ?? ''));
  }
}
