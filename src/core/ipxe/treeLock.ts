import * as path from 'node:path';
import { FarmError } from '../errors';
import { describeHolder, withFileLock } from '../fs';

/** Lock file beside src/: every build in one tree (CLI, editor, tests, benchmarks) takes it. */
export function treeLockFile(treeDir: string): string {
  return path.join(treeDir, '.ipxe-farm-build.lock');
}

/**
 * Run `fn` while holding an exclusive lock on the tree. iPXE writes every image into the same bin/ folder, so two
 * builds at once would mix one client's key into another's image.
 */
export async function withTreeLock<T>(
  treeDir: string,
  fn: () => Promise<T>,
  opts: { signal?: AbortSignal; onWait?: (message: string) => void } = {},
): Promise<T> {
  const lockFile = treeLockFile(treeDir);
  return withFileLock(lockFile, async () => fn(), {
    signal: opts.signal,
    onWait: (h) => opts.onWait?.(`Waiting for another iPXE build in ${treeDir} to finish${h ? ` (${describeHolder(h)})` : ''}…`),
    busy: (h) => new FarmError(`Another iPXE build${h ? ` (${describeHolder(h)})` : ''} holds ${lockFile}.`, 'Wait for it to finish.', 'ELOCKED'),
    cannotOpen: (code) => new FarmError(`Could not lock ${lockFile}: ${code}.`, `Make ${treeDir} writable by this user.`, 'ELOCK'),
    cancelled: () => new FarmError('The iPXE build was cancelled while waiting for another build to finish.', undefined, 'ECANCELED'),
  });
}
