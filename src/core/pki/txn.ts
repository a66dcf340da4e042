import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { FarmError } from '../errors';
import { ensureDir, writeFileAtomic } from '../fs/light';
import { type FarmHandle, farmLayout, type Farm } from '../farm/light';
import { buildCrl, crlToPem } from './crl';
import { certToPem, recordFor } from './certs';
import { leafKeyPem } from './keys';
import { pkiPaths, PkiPaths } from './paths';
import { applyJournal, Journal, PendingIndexWrite, readIndexAhead, recover, writeIndex, writeJournal } from './store';
import { withPkiLock } from './lock';
import type { Issuer } from './build';
import type { CertKind, CertRecord, PkiIndex } from './types';

/** One locked read-modify-write of the PKI: the farm's settings, its paths, and the index as it is now. */
export interface PkiTxn {
  farm: Farm;
  paths: PkiPaths;
  index: PkiIndex;
}

/** The opened farm's settings (CA names and lifetimes, server names, clients) come from the caller's handle, read once. */
export async function pkiTransaction<T>(h: FarmHandle, fn: (t: PkiTxn) => Promise<T>): Promise<T> {
  return lockedIndex(h.pki, (t) => fn({ ...t, farm: h.farm }));
}

/**
 * The same without reading the farm file: revoking and republishing the CRL need only the CA and the index, and must
 * work whatever mistake the farm file holds at the time. Hence a folder, not a handle (opening one checks the file).
 */
export async function pkiIndexTransaction<T>(root: string, fn: (t: Omit<PkiTxn, 'farm'>) => Promise<T>): Promise<T> {
  const layout = farmLayout(root);
  try {
    await fsp.access(layout.farmFile);
  } catch {
    throw new FarmError(`No farm at ${layout.root}: ipxe-farm.json is missing.`, 'Run `ipxe-farm init` there, or pass --farm DIR.', 'ENOFARM');
  }
  return lockedIndex(pkiPaths(layout), fn);
}

/** Both transactions: the lock, the index read while the lock is taken, and recovery from a crashed writer. */
async function lockedIndex<T>(paths: PkiPaths, fn: (t: Omit<PkiTxn, 'farm'>) => Promise<T>): Promise<T> {
  await ensureDir(paths.dir, 0o700);
  const ahead = readIndexAhead(paths.index);
  try {
    return await withPkiLock(paths.dir, async (tookOver) => {
      const index = await ahead.underLock();
      await recover(paths, index, tookOver);
      return fn({ paths, index });
    });
  } finally {
    await ahead.drop();
  }
}

/**
 * Refuse early, before the first byte changes, when a folder we are about to write is not writable: a failure halfway
 * would leave a reserved serial and stray files behind.
 */
export async function assertWritable(dirs: string[]): Promise<void> {
  for (const d of dirs) {
    let probe = d;
    // The nearest existing ancestor decides whether the folder can be created.
    for (;;) {
      try { await fsp.access(probe); break; } catch { const up = path.dirname(probe); if (up === probe) break; probe = up; }
    }
    try { await fsp.access(probe, fsp.constants.W_OK); } catch {
      throw new FarmError(`Cannot write in ${probe}: permission denied.`, `Make ${probe} writable by this user (nothing was changed).`, 'EACCES');
    }
  }
}

export interface Issued {
  cert: forge.pki.Certificate;
  kind: CertKind;
  name: string;
  key?: KeyObject;
  /** Where the current copy goes (pkiPaths().clientCert(name) …), besides the per-serial history copy. */
  certTo?: string;
  keyTo?: string;
  /** Also write cert + CA here (nginx's ssl_certificate for iPXE). */
  chainTo?: string;
  /** Write the key as PKCS#8 (CA) instead of PKCS#1 (leaves). */
  keyPem?: string;
  /** The key is already at its per-serial file (a spare claimed from the pool): not written again. */
  keyInPlace?: boolean;
  extra?: Partial<CertRecord>;
}

const rel = (paths: PkiPaths, p: string) => path.relative(paths.dir, p);

/**
 * Write issued certificates: per-serial copies and a journal (serials used, named copies to make) first, then the
 * index (the commit point), then the named copies. A crash before the index write leaves the old state, with the
 * journal's serials marked as used; after it, the next run finishes the copies from the journal. Three rounds of
 * fsync per issuance, whatever the batch size.
 */
export async function commitIssued(
  t: PkiTxn,
  items: Issued[],
  caPem: string,
  mutate?: (index: PkiIndex, records: CertRecord[]) => void | Promise<void>,
  /** A write begun with beginIndexWrite, usable only when `mutate` changes no existing record. */
  pending?: Promise<PendingIndexWrite>,
): Promise<CertRecord[]> {
  const { paths } = t;
  await ensureDir(paths.privateDir, 0o700, true);
  await ensureDir(paths.privateSerialsDir, 0o700, true);
  await ensureDir(paths.serialsDir, 0o755);
  const journal: Journal = { serials: [], copies: [] };
  const records: CertRecord[] = [];
  // Writes of a batch run concurrently: the file system commits their fsyncs together.
  const writes: Array<Promise<void>> = [];
  for (const it of items) {
    const rec0 = recordFor(it.cert, it.kind, it.name, { certFile: '' });
    const certFile = paths.certBySerial(rec0.serial);
    const pem = certToPem(it.cert);
    writes.push(writeFileAtomic(certFile, pem, { mode: 0o644 }));
    let keyFile: string | undefined;
    if (it.key) {
      keyFile = paths.keyBySerial(rec0.serial);
      // A claimed spare was renamed there: its bytes are on disk already, only the two folders' entries need to be.
      if (it.keyInPlace) writes.push(syncDir(paths.privateSerialsDir), syncDir(paths.spareDir));
      else writes.push(writeFileAtomic(keyFile, it.keyPem ?? leafKeyPem(it.key), { mode: 0o600 }));
    }
    if (it.certTo) journal.copies.push({ from: certFile, to: it.certTo, mode: 0o644 });
    if (it.keyTo && keyFile) journal.copies.push({ from: keyFile, to: it.keyTo, mode: 0o600 });
    if (it.chainTo) {
      const chainFile = certFile.replace(/\.crt$/, '-chain.crt');
      writes.push(writeFileAtomic(chainFile, `${pem}${caPem.endsWith('\n') ? caPem : `${caPem}\n`}`, { mode: 0o644 }));
      journal.copies.push({ from: chainFile, to: it.chainTo, mode: 0o644 });
    }
    journal.serials.push(rec0.serial);
    records.push({
      ...rec0,
      // The per-serial copies: they never change, so a record always points at its own certificate and key.
      certFile: rel(paths, certFile),
      ...(keyFile ? { keyFile: rel(paths, keyFile) } : {}),
      ...it.extra,
    });
  }
  // The journal names the serials being used (a crash before the index write leaves them reserved, see recover) and
  // the copies to make after it; it is written alongside the per-serial files.
  writes.push(writeJournal(paths, journal));
  await settleAll(writes);
  t.index.records.push(...records);
  await mutate?.(t.index, records);
  if (pending && !mutate) await (await pending).commit(t.index);
  else {
    if (pending) await (await pending).abort();
    await writeIndex(paths, t.index);
  }
  await applyJournal(paths, journal);
  return records;
}

async function syncDir(dir: string): Promise<void> {
  const h = await fsp.open(dir, 'r');
  try { await h.sync(); } finally { await h.close(); }
}

/** Like Promise.all, but waits for every write before throwing the first error (no write left running). */
export async function settleAll(ps: Array<Promise<unknown>>): Promise<void> {
  const rs = await Promise.allSettled(ps);
  const bad = rs.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (bad) throw bad.reason;
}

/** Mark records revoked in memory (the caller writes the index and the CRL). */
export function markRevoked(rec: CertRecord, reason: string, at = new Date()): void {
  rec.status = 'revoked';
  rec.revokedAt = at.toISOString();
  rec.revocationReason = reason;
}

/** How long a CRL stays acceptable: nginx refuses every client once it is past nextUpdate, so keep it long. */
export const CRL_DAYS = 365;

/** Write crl.pem and crl.der from the index (call before writing the index when revoking: a crash then errs safe). */
export async function publishCrl(t: Omit<PkiTxn, 'farm'>, ca: Issuer, now = new Date()): Promise<void> {
  const number = (t.index.crlNumber ?? 0) + 1;
  let nextUpdate = new Date(now.getTime() + CRL_DAYS * 86_400_000);
  if (nextUpdate > ca.cert.validity.notAfter) nextUpdate = ca.cert.validity.notAfter;
  const der = buildCrl(ca, t.index.records.filter((r) => r.status === 'revoked' && r.kind !== 'root'), { number, thisUpdate: now, nextUpdate });
  await writeFileAtomic(t.paths.crlDer, Buffer.from(der, 'binary'), { mode: 0o644 });
  await writeFileAtomic(t.paths.crlPem, crlToPem(der), { mode: 0o644 });
  t.index.crlNumber = number;
}
