import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { FarmError } from '../errors';

export interface WorkerIdentity {
  name: string;
  uid: number;
  gid: number;
}

/** uid and gid of a system user from /etc/passwd (www-data on Debian). */
export function lookupUser(name: string): WorkerIdentity | undefined {
  try {
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    if (!line) return undefined;
    const f = line.split(':');
    return { name, uid: Number(f[2]), gid: Number(f[3]) };
  } catch {
    return undefined;
  }
}

function canSearch(st: fs.Stats, who: WorkerIdentity): boolean {
  if (st.uid === who.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === who.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/**
 * nginx's workers (www-data when a local nginx is started as root) must walk down to files/ and to the boot socket.
 * Folders the farm owns for runtime state are given to the worker's group with search permission only (as the boot
 * service does: nobody else can enter, the workers cannot list them); any other folder in the way is named with the
 * command that fixes it, instead of nginx answering 403/502 later.
 */
export async function ensureWorkerCanReach(targets: string[], who: WorkerIdentity, farmOwned: string[]): Promise<void> {
  const blocked: string[] = [];
  for (const target of targets) {
    // The socket folder may not exist before the boot service starts: check what exists of the way there.
    let dir = path.resolve(target);
    const chain: string[] = [];
    for (;;) { chain.unshift(dir); const up = path.dirname(dir); if (up === dir) break; dir = up; }
    for (const d of chain) {
      let st: fs.Stats;
      try { st = await fsp.stat(d); } catch { break; }
      if (canSearch(st, who)) continue;
      if (farmOwned.includes(d)) {
        await fsp.chown(d, -1, who.gid);
        await fsp.chmod(d, (st.mode & 0o777) | 0o010);
      }
      else if (!blocked.includes(d)) blocked.push(d);
    }
  }
  if (blocked.length) {
    throw new FarmError(
      `nginx's workers run as ${who.name} and cannot enter ${blocked.join(', ')}, so they could not serve files/ or reach the boot service.`,
      `Run \`chmod o+x ${blocked.join(' ')}\` (search only, nobody can list them), or start ipxe-farm as a normal user.`,
      'EACCES',
    );
  }
}
