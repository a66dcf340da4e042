import * as fsp from 'node:fs/promises';
import { farmLayout } from '../farm/light';
import { readCrlInfo, type CrlInfo } from './crl';
import { pkiPaths } from './paths';
import type { CertRecord, PkiIndex } from './types';

export interface ExpiryEntry {
  record: CertRecord;
  /** Whole days left (negative: days since it expired). */
  daysLeft: number;
  state: 'expired' | 'expiring' | 'ok';
}

export interface ExpiryReport {
  expired: ExpiryEntry[];
  expiring: ExpiryEntry[];
  ok: number;
  revoked: number;
}

/** Valid certificates that have expired or expire within `days` (revoked ones are only counted). */
export function expiryReport(index: PkiIndex, days = 30, now = new Date()): ExpiryReport {
  const t = now.getTime();
  const horizon = t + days * 86_400_000;
  const out: ExpiryReport = { expired: [], expiring: [], ok: 0, revoked: 0 };
  for (const r of index.records) {
    if (r.status !== 'valid') { out.revoked++; continue; }
    const end = Date.parse(r.notAfter);
    const daysLeft = Math.floor((end - t) / 86_400_000);
    if (end <= t) out.expired.push({ record: r, daysLeft, state: 'expired' });
    else if (end <= horizon) out.expiring.push({ record: r, daysLeft, state: 'expiring' });
    else out.ok++;
  }
  const bySoonest = (a: ExpiryEntry, b: ExpiryEntry) => a.daysLeft - b.daysLeft;
  out.expired.sort(bySoonest);
  out.expiring.sort(bySoonest);
  return out;
}

export function entryFor(r: CertRecord, days: number, now = new Date()): ExpiryEntry {
  const end = Date.parse(r.notAfter);
  const daysLeft = Math.floor((end - now.getTime()) / 86_400_000);
  const state = end <= now.getTime() ? 'expired' : end <= now.getTime() + days * 86_400_000 ? 'expiring' : 'ok';
  return { record: r, daysLeft, state };
}

/** The published CRL's dates, or undefined when there is none (no CA yet). */
export async function crlStatus(root: string): Promise<CrlInfo | undefined> {
  const der = await fsp.readFile(pkiPaths(farmLayout(root)).crlDer).catch(() => undefined);
  if (!der) return undefined;
  try { return readCrlInfo(der.toString('binary')); } catch { return undefined; }
}
