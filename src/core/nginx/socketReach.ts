import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FarmHandle } from '../farm/light';
import { bootSocketAccess } from '../socket/light';

/**
 * Who can connect to the boot service's socket now, read from the file system as it is (not from what the farm
 * intends): `doctor` and `nginx status` print it, so an operator sees at once whether anyone but nginx could forge
 * X-SSL-Client-* headers.
 */
export interface SocketReach {
  /** false when someone besides the owner, root and nginx's workers can connect. */
  ok: boolean;
  text: string;
  fix?: string;
}

function nameOf(file: string, id: number): string {
  try {
    const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.split(':')[2] === String(id));
    return line ? line.split(':')[0]! : String(id);
  } catch {
    return String(id);
  }
}

const groupName = (gid: number) => nameOf('/etc/group', gid);
const userName = (uid: number) => nameOf('/etc/passwd', uid);

/** The socket's folders from its own up to /, each with its mode and owners. */
function ancestors(socket: string): fs.Stats[] {
  const out: fs.Stats[] = [];
  for (let d = path.dirname(socket); ; d = path.dirname(d)) {
    out.push(fs.statSync(d));
    if (d === path.dirname(d)) return out;
  }
}

export function describeSocketReach(h: Pick<FarmHandle, 'farm' | 'layout' | 'runtime'>, socket = h.layout.bootSocket): SocketReach {
  const { farm, layout } = h;
  let st: fs.Stats;
  try { st = fs.statSync(socket); } catch {
    return { ok: true, text: `No boot socket at ${socket}: the boot service is not running (\`ipxe-farm serve\`).` };
  }
  const access = bootSocketAccess(farm, h.runtime.kind);
  let dirs: fs.Stats[];
  try { dirs = ancestors(socket); } catch (err) {
    return { ok: true, text: `Cannot tell who can reach the boot socket ${socket}: a folder above it cannot be read (${(err as NodeJS.ErrnoException).code}).` };
  }
  const others = (st.mode & 0o002) !== 0 && dirs.every((d) => (d.mode & 0o001) !== 0);
  const group = (st.mode & 0o020) !== 0 && dirs.every((d) => (d.gid === st.gid ? d.mode & 0o010 : d.mode & 0o001) !== 0);
  const who = [`${userName(st.uid)} (its owner)`, ...(st.uid === 0 ? [] : ['root'])];
  const where = path.relative(layout.root, socket);
  const nginxGroup = access.kind === 'group' && access.gid === st.gid;
  if (group && !others) who.push(`members of group ${groupName(st.gid)} (gid ${st.gid})${nginxGroup ? ', nginx\'s workers' : ''}`);
  if (access.kind === 'container') who.push(`the processes of container ${access.container} (nginx), where ${path.relative(layout.root, path.dirname(socket))} is mounted`);
  const text = `Boot socket ${where} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, ${userName(st.uid)}:${groupName(st.gid)}) can be reached by ${others ? 'EVERY user of this machine' : who.join(', ')}.`;
  if (others) return { ok: false, text, fix: `Make ${layout.runtime} 0700 (podman) or restart the boot service, which sets the modes again.` };
  if (group && !nginxGroup) {
    return { ok: false, text: `${text} Group ${groupName(st.gid)} is not nginx's: its members could forge client identities.`, fix: 'Restart the boot service (`ipxe-farm serve`), which sets the socket\'s folders and modes again.' };
  }
  // Not an exposure, but boots would fail with 502: say so where the operator is already looking.
  if (access.kind === 'group' && access.group !== undefined && access.gid !== undefined && !(group && nginxGroup)) {
    return { ok: true, text: `${text} Note: nginx's workers (group ${groupName(access.gid)}) cannot reach it: let them pass through the folders above the farm (chmod o+x), as for a home folder.` };
  }
  return { ok: true, text };
}
