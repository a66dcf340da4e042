import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Another process holding a lock file the way ipxe-farm does (src/core/fs/fileLock.ts): its record in the file and a
 * kernel flock on it, for as long as it lives. Kill it to release.
 */
export async function holdLock(file: string): Promise<ChildProcess> {
  const script = `exec 9<>"$0"; flock -x 9; printf '{"pid":%d,"host":"%s","since":"2026-01-02T03:04:05.000Z"}' $$ "$(hostname)" >&9; echo locked; exec sleep 30`;
  const child = spawn('sh', ['-c', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => { if (String(b).includes('locked')) resolve(); });
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking ${file}`)));
  });
  return child;
}
