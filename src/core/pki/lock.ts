import * as path from 'node:path';
import { FarmError } from '../errors';
import { describeHolder, withFileLock } from '../fs';

/** One writer at a time in pki/: two CLI processes issuing at once would otherwise hand out the same serial. */
const LOCK_NAME = '.lock';

/** `fn` gets `tookOver`: true when the last holder died holding the lock (then the caller cleans up after it). */
export async function withPkiLock<T>(dir: string, fn: (tookOver: boolean) => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const file = path.join(dir, LOCK_NAME);
  return withFileLock(file, fn, {
    timeoutMs,
    mode: 0o600,
    busy: (h) => new FarmError(
      `Another ipxe-farm process${h ? ` (${describeHolder(h)})` : ''} has held the PKI lock ${file} for too long.`,
      'Wait for it to finish, or stop it; the lock is released the moment it exits.',
      'ELOCKED',
    ),
    cannotOpen: (code) => code === 'ENOENT'
      ? new FarmError(`The PKI folder ${dir} does not exist.`, 'Run `ipxe-farm ca init` first.', 'ENOCA')
      : new FarmError(`Cannot write in ${dir}: ${code}.`, `Make ${dir} writable by this user.`, code),
  });
}
