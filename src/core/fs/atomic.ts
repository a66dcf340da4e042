import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FarmError } from '../errors';

export interface WriteOptions {
  /** File mode; keys and secrets pass 0o600. */
  mode?: number;
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function explain(file: string, err: unknown): FarmError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') {
    return new FarmError(`Cannot write ${file}: ${e.code}.`, `Make ${path.dirname(file)} writable by this user, or run from a farm you own.`, e.code);
  }
  if (e.code === 'ENOENT') {
    return new FarmError(`Cannot write ${file}: its folder does not exist.`, `Create ${path.dirname(file)} first (ipxe-farm init creates a farm's folders).`, e.code);
  }
  if (e.code === 'ENOSPC') return new FarmError(`Cannot write ${file}: the disk is full.`, 'Free some space and try again.', e.code);
  return new FarmError(`Cannot write ${file}: ${e.message}.`, undefined, e.code ?? 'EIO');
}

/**
 * Temp file in the same folder, fsync, rename over the target, fsync the folder: after a crash the file holds the old
 * content or the new, never half of either. The mode is set at creation, so a key is never readable by others even
 * for an instant.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  const tmp = tempName(file);
  const mode = opts.mode ?? 0o644;
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx', mode);
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, file);
    await syncDir(path.dirname(file));
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw explain(file, err);
  }
}

export function writeFileAtomicSync(file: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const tmp = tempName(file);
  const mode = opts.mode ?? 0o644;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', mode);
    fs.writeFileSync(fd, data);
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
    const dfd = fs.openSync(path.dirname(file), 'r');
    try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
  } catch (err) {
    if (fd !== undefined) try { fs.closeSync(fd); } catch { /* already failing */ }
    try { fs.rmSync(tmp, { force: true }); } catch { /* already failing */ }
    throw explain(file, err);
  }
}

async function syncDir(dir: string): Promise<void> {
  const h = await fsp.open(dir, 'r');
  try { await h.sync(); } finally { await h.close(); }
}

/** mkdir -p with a mode; an existing folder keeps its mode unless `enforce` (private folders must not stay open). */
export async function ensureDir(dir: string, mode = 0o755, enforce = false): Promise<void> {
  try {
    await fsp.mkdir(dir, { recursive: true, mode });
    if (enforce) await fsp.chmod(dir, mode);
  } catch (err) {
    throw explain(path.join(dir, '.'), err);
  }
}

export async function exists(p: string): Promise<boolean> {
  try { await fsp.access(p); return true; } catch { return false; }
}
