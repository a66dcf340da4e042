import * as path from 'node:path';
import { FarmError } from '../errors';
import { start } from '../process/run';

/** Lock file beside src/: every build in one tree (CLI, editor, tests, benchmarks) takes it. */
export function treeLockFile(treeDir: string): string {
  return path.join(treeDir, '.ipxe-farm-build.lock');
}

/**
 * Run `fn` while holding an exclusive lock on the tree. iPXE writes every image into the same bin/ folder, so two
 * builds at once would mix one client's key into another's image.
 *
 * The lock is a kernel flock held by a small `flock … cat` child that lives as long as its stdin pipe: if this
 * process dies for any reason the pipe closes, cat exits and the lock is released. No stale lock files, no pid
 * guessing.
 */
export async function withTreeLock<T>(
  treeDir: string,
  fn: () => Promise<T>,
  opts: { signal?: AbortSignal; onWait?: (message: string) => void } = {},
): Promise<T> {
  const lockFile = treeLockFile(treeDir);
  const holder = start('flock', ['--exclusive', lockFile, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { signal: opts.signal });
  let waitTimer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let got = '';
      waitTimer = setTimeout(() => opts.onWait?.(`Waiting for another iPXE build in ${treeDir} to finish…`), 300);
      holder.stdout?.on('data', (d: Buffer | string) => {
        got += String(d);
        if (got.includes('locked')) resolve();
      });
      void holder.then((r) => {
        if (opts.signal?.aborted) reject(new FarmError('The iPXE build was cancelled while waiting for another build to finish.', undefined, 'ECANCELED'));
        else reject(new FarmError(`Could not lock ${lockFile}: ${String(r.stderr || `flock exited ${r.exitCode}`).trim()}.`, `Make ${treeDir} writable by this user.`, 'ELOCK'));
      });
    });
  } finally {
    clearTimeout(waitTimer);
  }
  try {
    return await fn();
  } finally {
    holder.stdin?.end();
    await holder.catch(() => undefined);
  }
}
