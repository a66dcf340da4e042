import { readFileSync } from 'node:fs';

/** Whether a process with this id exists (EPERM: it does, owned by someone else). Used to judge stale lock files. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether pid N is alive and still the program we think (its command line names `program`): a pid file or an old
 * `podman inspect` outlives its process, and the pid may be someone else's by now. A command line we cannot read is
 * not ours to signal.
 */
export function pidRuns(pid: number, program: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(program);
  } catch {
    return false;
  }
}
