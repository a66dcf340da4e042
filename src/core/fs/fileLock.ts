import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import { FarmError } from '../errors';
import { run } from '../process';
import { parseJsonRecord } from './jsonRecord';

/**
 * One lock design for every "one at a time" in iPXE Farm (the CA's pki/ folder, an iPXE tree's bin/, the local nginx
 * image cache): a kernel flock on a lock file. The kernel releases it when the holder dies, however it dies, so there is
 * no stale lock to guess at (a pid file needs "is that pid still ours?", wrong after a reboot or pid reuse, and a
 * timeout, wrong for a long build). Node has no flock call: the `flock` program locks the open file we hand it as its
 * stdin and exits; the lock belongs to the open file, so it stays ours until we close it (or die).
 *
 * Inside the locked file the holder writes who it is (LockHolder): waiters say "held by pid N since …", and a clean
 * release removes the file, so a holder record found on taking the lock means the last holder died mid-way
 * (`tookOver`: the caller finishes or drops what it left).
 */
export const lockHolderSchema = z.object({ pid: z.number().int(), host: z.string(), since: z.string() });
export type LockHolder = z.infer<typeof lockHolderSchema>;

export interface FileLockOptions {
  /** Give up after this long (default: wait as long as it takes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Mode of a new lock file. */
  mode?: number;
  /** Called once when another holder makes us wait. */
  onWait?: (holder: LockHolder | undefined) => void;
  /** The error for a wait that timed out, naming the holder. */
  busy: (holder: LockHolder | undefined) => FarmError;
  /** The error for a lock file that cannot be opened (ENOENT, EACCES …). */
  cannotOpen: (code: string) => FarmError;
  /** The error for a wait cancelled through `signal`. */
  cancelled?: () => FarmError;
}

/** "pid 123 on host lab1 since 2026-12-06 08:40:12 UTC" (the host only when it is not this one). */
export function describeHolder(h: LockHolder): string {
  const host = h.host === os.hostname() ? '' : ` on ${h.host}`;
  return `pid ${h.pid}${host} since ${h.since.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`;
}

async function holderOf(file: string): Promise<LockHolder | undefined> {
  const r = parseJsonRecord(await fsp.readFile(file, 'utf8').catch(() => ''), lockHolderSchema, file);
  return r.ok ? r.value : undefined;
}

// Callers in one process queue here first: they would exclude each other through the kernel too (a flock belongs to
// an open file), but each would wait in a `flock` child of its own. `held`: this process's record per lock it holds.
const queues = new Map<string, Promise<unknown>>();
const held = new Map<string, LockHolder>();

export async function withFileLock<T>(file: string, fn: (tookOver: boolean) => Promise<T>, opts: FileLockOptions): Promise<T> {
  const key = path.resolve(file);
  const before = queues.get(key);
  const mine = (async () => {
    let told = false;
    if (before) {
      const ahead = held.get(key);
      if (ahead) { told = true; opts.onWait?.(ahead); }
      await waitOrAbort(before, opts);
    }
    return locked(key, fn, told ? { ...opts, onWait: undefined } : opts);
  })();
  const tail = mine.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => { if (queues.get(key) === tail) queues.delete(key); });
  return mine;
}

/** The turn of the caller ahead of us, or the caller's cancellation, whichever comes first. */
async function waitOrAbort(turn: Promise<unknown>, opts: FileLockOptions): Promise<void> {
  const { signal } = opts;
  if (signal?.aborted) throw cancelled(opts);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled(opts));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([turn.catch(() => undefined), aborted]);
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

function cancelled(opts: FileLockOptions): FarmError {
  return opts.cancelled?.() ?? new FarmError('Cancelled while waiting for a lock.', undefined, 'ECANCELED');
}

async function flock(h: fsp.FileHandle, wait: boolean, timeoutMs: number | undefined, opts: FileLockOptions): Promise<boolean> {
  const args = wait ? ['--exclusive', ...(timeoutMs !== undefined ? ['--wait', String(Math.max(timeoutMs, 1) / 1000)] : []), '0'] : ['--exclusive', '--nonblock', '0'];
  let r;
  try {
    r = await run('flock', args, { stdinFd: h.fd, signal: opts.signal });
  } catch (err) {
    if (opts.signal?.aborted) throw cancelled(opts);
    throw err;
  }
  if (r.exitCode === 0) return true;
  if (r.exitCode === 1) return false; // busy (--nonblock) or timed out (--wait)
  throw new FarmError(`flock failed on its lock file (exit ${r.exitCode}): ${r.stderr.trim()}.`, undefined, 'ELOCK');
}

async function locked<T>(file: string, fn: (tookOver: boolean) => Promise<T>, opts: FileLockOptions): Promise<T> {
  const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
  let told = false;
  for (;;) {
    let h: fsp.FileHandle;
    try {
      h = await fsp.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT, opts.mode ?? 0o644);
    } catch (err) {
      throw opts.cannotOpen((err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
    try {
      let got = await flock(h, false, undefined, opts);
      if (!got) {
        const holder = await holderOf(file);
        if (!told) { told = true; opts.onWait?.(holder); }
        const left = deadline === undefined ? undefined : deadline - Date.now();
        if (left !== undefined && left <= 0) throw opts.busy(holder);
        got = await flock(h, true, left, opts);
        if (!got) throw opts.busy(await holderOf(file));
      }
      // The holder before us may have removed the file on release while we waited on it: the lock is then on a file
      // nobody else will open. Only a lock on the file at that path counts.
      const [st, now] = await Promise.all([h.stat(), fsp.stat(file).catch(() => undefined)]);
      if (!now || now.ino !== st.ino || now.dev !== st.dev) continue;
      const left = (await h.readFile('utf8')).trim();
      const me: LockHolder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
      await h.truncate(0);
      await h.write(JSON.stringify(me), 0);
      held.set(file, me);
      try {
        return await fn(left.length > 0);
      } finally {
        held.delete(file);
        // Removed while still held, so the next holder never finds our record and thinks we died.
        await fsp.rm(file, { force: true });
      }
    } finally {
      await h.close().catch(() => undefined);
    }
  }
}
