import * as fsp from 'node:fs/promises';
import { FarmError } from '../errors';
import { parseJsonRecord } from '../fs/light';
import { farmLayout } from '../farm/light';
import { pkiPaths } from './paths';
import { pkiIndexSchema, pkiIndexVouchedSchema } from './indexSchema';
import { recordsPrefix, type RecordsPrefix } from './indexLayout';
import type { PkiIndex } from './types';

/**
 * The one reader of the PKI index, for the CA (which writes it under its lock) and the boot service (which only reads).
 * One rule for both: an absent index is an empty one (no CA yet: no client is known), and an index that is not JSON,
 * not version 1, or holds one record of the wrong shape is refused whole. A writer must not write over records it could
 * not read, and the boot service must not decide from a record it had to guess at (a status "Revoked" read as "not
 * revoked" would boot a revoked machine): it refuses every certificate with the reason (boot/state.ts), never falling
 * back to an older index, which may predate a revocation.
 */
export function emptyIndex(): PkiIndex {
  return { version: 1, nextSerial: '01', records: [] };
}

const RESTORE = 'Restore it from a backup or from git; only `ipxe-farm` should write it.';

/** `vouched`: the records' hash in the file matches them (indexLayout.ts), so only the other fields are checked. */
export function parseIndex(text: string, file: string, vouched = false): PkiIndex {
  const r = parseJsonRecord(text, vouched ? pkiIndexVouchedSchema : pkiIndexSchema, `The PKI index ${file}`);
  if (r.ok) return r.value;
  const first = r.issues?.[0];
  if (!first) throw new FarmError(r.problem, RESTORE, 'EINDEX');
  const at = first.path.length ? ` at /${first.path.map(String).join('/')}` : '';
  throw new FarmError(`The PKI index ${file} is not an iPXE Farm index (version 1)${at}: ${first.message}.`, RESTORE, 'EINDEX');
}

/** The index file and what it holds; `prefix`: its records' bytes when it has the CA's layout (none: no index yet). */
export async function readIndexBytes(file: string): Promise<{ index: PkiIndex; prefix?: RecordsPrefix }> {
  let raw: Buffer;
  try { raw = await fsp.readFile(file); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { index: emptyIndex() };
    throw new FarmError(`Cannot read the PKI index ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, undefined, 'EINDEX');
  }
  return indexFromBytes(raw, file);
}

export function indexFromBytes(raw: Buffer, file: string): { index: PkiIndex; prefix?: RecordsPrefix } {
  const prefix = recordsPrefix(raw);
  return { index: parseIndex(raw.toString('utf8'), file, prefix?.vouched), prefix };
}

export async function readIndexFile(file: string): Promise<PkiIndex> {
  return (await readIndexBytes(file)).index;
}

/** The PKI index of the farm at `root` (empty when there is no CA yet). One read, no lock: writers replace it atomically. */
export async function readPkiIndex(root: string): Promise<PkiIndex> {
  return readIndexFile(pkiPaths(farmLayout(root)).index);
}
