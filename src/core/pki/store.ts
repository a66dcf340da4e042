import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import * as z from 'zod';
import { ensureDir, writeFileAtomic, parseJsonRecord } from '../fs/light';
import type { PkiPaths } from './paths';
import { parseSerial, serialToNginx } from './serial';
import type { CertRecord, PkiIndex } from './types';
import { indexHead, indexTail, recordsTag, type RecordsPrefix } from './indexLayout';
import { pidAlive } from '../process/light';
import { indexFromBytes, readIndexBytes } from './indexRead';
import { certRecordSchema, journalSchema, journalSerialsSchema } from './indexSchema';

// The index's writer (its reader is indexRead.ts, the layout indexLayout.ts). The index is one JSON file, one record
// per line, read once and written once (atomically) per operation: at 10,000 records that is ~5 MB and a few tens of
// milliseconds, and a crash leaves the old file or the new one.
//
// Every record written is either copied from a file read and checked under the lock, or checked here against the
// definition: the records' hash in the tail vouches for exactly that (indexLayout.ts).
const recordsSchema = z.array(certRecordSchema);

function checkedLines(records: CertRecord[]): string[] {
  const r = recordsSchema.safeParse(records);
  if (!r.success) throw new Error(`A PKI record to write does not have the index's shape (${r.error.issues[0]?.path.join('/')}: ${r.error.issues[0]?.message}).`);
  return records.map((rec) => JSON.stringify(rec));
}

function recordsText(index: PkiIndex, lines: string[]): string {
  return `${indexHead(index)}${lines.length ? `\n${lines.join(',\n')}` : ''}`;
}

export function serialiseIndex(index: PkiIndex): string {
  const lines = checkedLines(index.records);
  const text = recordsText(index, lines);
  return `${text}${lines.length ? `\n${indexTail(index, recordsTag(createHash('sha256').update(text)))}` : indexTail(index)}`;
}

/**
 * An index write begun before the new records exist: the current records go to a temp file (and towards the disk)
 * while the caller waits for its keys; commit() appends the new records and the tail, fsyncs and renames. Only valid
 * when the existing records are not changed in between (the caller falls back to writeIndex otherwise).
 */
export interface PendingIndexWrite {
  commit(index: PkiIndex): Promise<void>;
  abort(): Promise<void>;
}

// The bytes read for an index (under the lock), up to the end of its records, and their hash: a plain issuance copies
// them to the new file instead of serialising (and checking) 10,000 unchanged records again.
const readPrefixes = new WeakMap<PkiIndex, { bytes: Buffer; hash: Hash; count: number }>();

/** The head and records of `index` as the new file's first bytes, with their hash: copied from the read when unchanged. */
function recordsPrefixOf(index: PkiIndex): { bytes: Buffer | string; hash: Hash } {
  const read = readPrefixes.get(index);
  if (read && read.count === index.records.length) return read;
  const text = recordsText(index, checkedLines(index.records));
  return { bytes: text, hash: createHash('sha256').update(text) };
}

export async function beginIndexWrite(paths: PkiPaths, index: PkiIndex): Promise<PendingIndexWrite> {
  const count = index.records.length;
  const tmp = path.join(paths.dir, `.index.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const h = await fsp.open(tmp, 'wx', 0o644);
  let closed = false;
  const abort = async () => {
    if (!closed) { closed = true; await h.close().catch(() => undefined); }
    await fsp.rm(tmp, { force: true });
  };
  const prefix = recordsPrefixOf(index);
  try {
    await h.writeFile(prefix.bytes);
    await h.datasync(); // flush the bulk now, while the caller waits for key generation anyway
  } catch (err) {
    await abort();
    throw err;
  }
  return {
    abort,
    async commit(next) {
      try {
        if (next.records.length < count) throw new Error('index shrank during a write');
        const added = checkedLines(next.records.slice(count));
        const more = added.length ? `${count ? ',\n' : '\n'}${added.join(',\n')}` : '';
        const tail = next.records.length ? `\n${indexTail(next, recordsTag(prefix.hash, more))}` : indexTail(next);
        await h.writeFile(`${more}${tail}`);
        await h.sync();
        await h.close();
        closed = true;
        await fsp.rename(tmp, paths.index);
        const d = await fsp.open(paths.dir, 'r');
        try { await d.sync(); } finally { await d.close(); }
      } catch (err) {
        await abort();
        throw err;
      }
    },
  };
}

/** The index for a writer holding the lock: it may append records, and beginIndexWrite then reuses the bytes read. */
export async function readIndexForWrite(file: string): Promise<PkiIndex> {
  return forWrite(await readIndexBytes(file));
}

function forWrite({ index, prefix }: { index: PkiIndex; prefix?: RecordsPrefix }): PkiIndex {
  if (prefix && index.records.length) readPrefixes.set(index, { bytes: prefix.bytes, hash: prefix.hash, count: index.records.length });
  return index;
}

/**
 * The index read while the lock is being taken (the lock costs a `flock` child, ~10 ms, that the read and parse can
 * run beside), and used under the lock only if the file is still the one read: every writer replaces the index by a
 * rename, and the open file handle keeps its inode from being reused, so the same inode, size and times mean the same
 * bytes. Otherwise, or when the read failed, the index is read again under the lock (for the error as it is now).
 */
export function readIndexAhead(file: string): { underLock(): Promise<PkiIndex>; drop(): Promise<void> } {
  const early = (async () => {
    const h = await fsp.open(file, 'r');
    try {
      const st = await h.stat({ bigint: true });
      return { h, st, read: indexFromBytes(await h.readFile(), file) };
    } catch (err) {
      await h.close();
      throw err;
    }
  })();
  early.catch(() => undefined);
  let closed: Promise<void> | undefined;
  const drop = () => (closed ??= early.then((e) => e.h.close(), () => undefined).catch(() => undefined));
  return {
    drop,
    async underLock() {
      try {
        const e = await early;
        const now = await fsp.stat(file, { bigint: true });
        const same = (['dev', 'ino', 'size', 'mtimeNs', 'ctimeNs'] as const).every((k) => now[k] === e.st[k]);
        if (same) return forWrite(e.read);
      } catch { /* no index yet, or one that cannot be read: read again under the lock */ } finally {
        await drop();
      }
      return readIndexForWrite(file);
    },
  };
}

export async function writeIndex(paths: PkiPaths, index: PkiIndex): Promise<void> {
  await writeFileAtomic(paths.index, serialiseIndex(index), { mode: 0o644 });
}

/**
 * Take the next `count` serials (returns the first): above the index's nextSerial, every recorded serial, and the
 * high-water mark in pki/serial that recovery leaves when a run died after writing certificates but before the index
 * (see recover), so no serial that reached the disk is used twice.
 */
export async function reserveSerial(paths: PkiPaths, index: PkiIndex, count = 1): Promise<bigint> {
  let next = parseSerial(index.nextSerial) ?? 1n;
  const mark = await fsp.readFile(paths.serialFile, 'utf8').catch(() => '');
  const reserved = parseSerial(mark);
  if (reserved !== undefined && reserved + 1n > next) next = reserved + 1n;
  // Belt and braces against a hand-edited nextSerial; canonical serials compare by length, then as strings (no BigInt
  // per record: this runs on every issuance over the whole index).
  let top = '';
  for (const r of index.records) if (r.serial.length > top.length || (r.serial.length === top.length && r.serial > top)) top = r.serial;
  const topN = top ? parseSerial(top) : undefined;
  if (topN !== undefined && topN + 1n > next) next = topN + 1n;
  index.nextSerial = serialToNginx(next + BigInt(count));
  return next;
}

/** File copies that follow an index write; written before the index, removed after the copies. */
export type Journal = z.infer<typeof journalSchema>;

export async function writeJournal(paths: PkiPaths, j: Journal): Promise<void> {
  await writeFileAtomic(paths.journal, JSON.stringify(j), { mode: 0o600 });
}

export async function applyJournal(paths: PkiPaths, j: Journal): Promise<void> {
  const dirs = new Map(j.copies.map((c) => [path.dirname(c.to), c.mode === 0o600 ? 0o700 : 0o755]));
  for (const [d, mode] of dirs) await ensureDir(d, mode);
  const rs = await Promise.allSettled(j.copies.map(async (c) => writeFileAtomic(c.to, await fsp.readFile(c.from), { mode: c.mode })));
  const bad = rs.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (bad) throw bad.reason;
  await fsp.rm(paths.journal, { force: true });
}

/** writeFileAtomic's temp files (`.NAME.PID.RAND.tmp`) left by a killed run. */
async function removeLeftovers(paths: PkiPaths): Promise<void> {
  const dirs = [paths.dir, paths.issuedDir, paths.serialsDir, paths.clientsDir, paths.privateDir, paths.privateSerialsDir, paths.clientKeysDir, paths.spareDir,
    path.dirname(paths.csrCert('x')), path.dirname(paths.crossCert('x'))];
  for (const d of dirs) {
    const names = await fsp.readdir(d).catch(() => [] as string[]);
    for (const n of names) {
      const m = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(n);
      if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) await fsp.rm(path.join(d, n), { force: true });
    }
  }
}

/** Finish (or drop) what a crashed run left half done; called under the lock before anything else. */
export async function recover(paths: PkiPaths, index: PkiIndex, cleanLeftovers = false): Promise<void> {
  if (cleanLeftovers) await removeLeftovers(paths);
  let text: string;
  try { text = await fsp.readFile(paths.journal, 'utf8'); } catch { return; }
  const whole = parseJsonRecord(text, journalSchema, paths.journal);
  if (whole.ok && whole.value.serials.every((s) => index.records.some((r) => r.serial === s))) {
    await applyJournal(paths, whole.value);
    return;
  }
  const some = whole.ok ? undefined : parseJsonRecord(text, journalSerialsSchema, paths.journal);
  const serials = whole.ok ? whole.value.serials : some?.ok ? some.value.serials : [];
  // The index never learnt of that run: the old files stay current, but its serials may be in certificates on disk,
  // so they stay used. Their keys go: a certificate the index does not know must have no usable key (and a key
  // claimed from the spare pool is then gone, never handed out a second time).
  for (const s of serials) {
    const n = parseSerial(s); // never a path from the journal as written: only a serial
    if (n !== undefined && !index.records.some((r) => r.serial === serialToNginx(n))) await fsp.rm(paths.keyBySerial(serialToNginx(n)), { force: true });
  }
  const top = serials.map(parseSerial).reduce<bigint>((m, n) => (n !== undefined && n > m ? n : m), 0n);
  const mark = parseSerial(await fsp.readFile(paths.serialFile, 'utf8').catch(() => '')) ?? 0n;
  if (top > mark) await writeFileAtomic(paths.serialFile, `${serialToNginx(top)}\n`, { mode: 0o644 });
  await fsp.rm(paths.journal, { force: true });
}
