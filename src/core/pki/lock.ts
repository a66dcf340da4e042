import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FarmError } from '../errors';
import { pidAlive } from '../process/alive';

/**
 * One writer at a time in pki/: two CLI processes issuing at once would otherwise hand out the same serial. The lock
 * is a file created with O_EXCL holding the owner's pid; a lock whose owner is dead (SIGKILL, power cut) is stale and
 * taken over, so a crash never wedges the CA.
 */
const LOCK_NAME = '.lock';
const STALE_AFTER_MS = 10 * 60_000;

interface LockInfo { pid: number; host: string; at: number; token: string }

function isStale(info: LockInfo | undefined, mtimeMs: number): boolean {
  // Empty or garbled: the owner died between creating the file and writing its pid; give a live writer 5 s.
  if (!info || typeof info.pid !== 'number') return Date.now() - mtimeMs > 5_000;
  if (Date.now() - info.at > STALE_AFTER_MS) return true;
  return info.host === os.hostname() && !pidAlive(info.pid);
}

// Same-process callers queue here first, so a burst of API calls does not poll the file.
let chain: Promise<unknown> = Promise.resolve();

/** `fn` gets `tookOver`: true when a dead owner's lock was broken (then the caller cleans up after it). */
export async function withPkiLock<T>(dir: string, fn: (tookOver: boolean) => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const run = chain.then(() => lockedFile(dir, fn, timeoutMs));
  chain = run.catch(() => undefined);
  return run;
}

async function lockedFile<T>(dir: string, fn: (tookOver: boolean) => Promise<T>, timeoutMs: number): Promise<T> {
  let tookOver = false;
  const file = path.join(dir, LOCK_NAME);
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), at: Date.now(), token: randomBytes(8).toString('hex') };
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      const h = await fsp.open(file, 'wx', 0o600);
      try { await h.writeFile(JSON.stringify(mine)); } finally { await h.close(); }
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new FarmError(`The PKI folder ${dir} does not exist.`, 'Run `ipxe-farm ca init` first.', 'ENOCA');
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw new FarmError(`Cannot write in ${dir}: ${code}.`, `Make ${dir} writable by this user.`, code);
      }
      if (code !== 'EEXIST') throw err;
    }
    const text = await fsp.readFile(file, 'utf8').catch(() => undefined);
    const mtimeMs = (await fsp.stat(file).catch(() => undefined))?.mtimeMs;
    if (text === undefined || mtimeMs === undefined) continue; // released meanwhile
    let info: LockInfo | undefined;
    try { info = JSON.parse(text) as LockInfo; } catch { info = undefined; }
    if (isStale(info, mtimeMs)) {
      await breakStale(file, text);
      tookOver = true;
      continue;
    }
    if (Date.now() > deadline) {
      throw new FarmError(
        `Another ipxe-farm process${info ? ` (pid ${info.pid})` : ''} has held the PKI lock ${file} for too long.`,
        'Wait for it to finish; if no such process runs, delete that file.',
        'ELOCKED',
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn(tookOver);
  } finally {
    // Only remove our own lock: a stale-breaker may have (wrongly) replaced it if we ran longer than STALE_AFTER_MS.
    const text = await fsp.readFile(file, 'utf8').catch(() => '');
    if (text.includes(mine.token)) await fsp.rm(file, { force: true });
  }
}

/**
 * Rename, then check: two processes breaking the same stale lock must not delete each other's fresh one. The rename
 * is atomic, so whoever renamed the stale content removes it; whoever grabbed a fresh lock by mistake puts it back.
 */
async function breakStale(file: string, staleText: string): Promise<void> {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try { await fsp.rename(file, aside); } catch { return; }
  const got = await fsp.readFile(aside, 'utf8').catch(() => '');
  if (got === staleText) { await fsp.rm(aside, { force: true }); return; }
  try { await fsp.link(aside, file); } catch { /* someone holds a lock now; theirs wins */ }
  await fsp.rm(aside, { force: true });
}
