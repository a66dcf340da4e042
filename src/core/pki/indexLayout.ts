import { createHash, type Hash } from 'node:crypto';
import type { PkiIndex } from './types';

/**
 * The index file's layout, for its writer (store.ts) and its reader (indexRead.ts): `{"version":1,"records":[`, one
 * record per line, then the tail with the fields that change on every write and `recordsSha256`, the SHA-256 of every
 * byte before the records' closing bracket.
 *
 * Why the hash: checking 10,000 records against the zod definition costs ~25 ms in a warm process and ~60 ms in a
 * fresh CLI process, on every command and every boot-service reload. The writer puts the hash only over records that
 * passed that check (copied from a checked read, or checked as they are written), so a reader whose bytes match it
 * knows every record has the shape without checking them again; it still checks the other fields (version …). Any
 * other byte (a hand edit, another tool, a torn copy) breaks the hash, and the whole index is checked record by record
 * as before, and refused whole if one record is wrong. Nothing is remembered between reads: the bytes vouch for
 * themselves, so a revocation written a moment ago is what the next read sees.
 */
const TAG = 'recordsSha256';

export function indexHead(index: Pick<PkiIndex, 'version'>): string {
  return `{"version":${index.version},"records":[`;
}

/** `]`, the fields other than version and records, the records' hash when there are records, `}` and a newline. */
export function indexTail(index: Omit<PkiIndex, 'records'> & { records?: unknown }, recordsSha256?: string): string {
  const { version: _v, records: _r, ...rest } = index;
  const fields = JSON.stringify(recordsSha256 === undefined ? rest : { ...rest, [TAG]: recordsSha256 }).slice(1, -1);
  return `]${fields ? `,${fields}` : ''}}\n`;
}

/** The hash for the tail: `head` (the hash of the bytes so far) followed by `more`. */
export function recordsTag(head: Hash, more = ''): string {
  return head.copy().update(more).digest('hex');
}

export interface RecordsPrefix {
  /** The file from its first byte to the end of its last record (a writer that only appends copies them). */
  bytes: Buffer;
  /** Their SHA-256 so far (a writer appending records continues it). */
  hash: Hash;
  /** The tail's recordsSha256 matches them: a writer checked every record. */
  vouched: boolean;
}

/** The records' bytes of `raw` when it has this layout exactly (our head, records, a newline, then exactly our tail). */
export function recordsPrefix(raw: Buffer): RecordsPrefix | undefined {
  const end = raw.lastIndexOf('\n]');
  const head = Buffer.from(indexHead({ version: 1 }));
  if (end < head.length || !raw.subarray(0, head.length).equals(head)) return undefined;
  const tail = raw.subarray(end + 1).toString('utf8');
  let fields: unknown;
  try { fields = JSON.parse(`{${tail.slice(2)}`); } catch { return undefined; }
  if (!fields || typeof fields !== 'object' || Array.isArray(fields)) return undefined;
  const { [TAG]: tag, ...rest } = fields as Record<string, unknown>;
  const given = typeof tag === 'string' ? tag : undefined;
  if (tail !== indexTail({ ...(rest as Omit<PkiIndex, 'records' | 'version'>), version: 1 }, given)) return undefined;
  const bytes = raw.subarray(0, end);
  const hash = createHash('sha256').update(bytes);
  return { bytes, hash, vouched: given !== undefined && recordsTag(hash) === given };
}
