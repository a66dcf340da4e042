import * as fs from 'node:fs';
import type { Farm } from '../farm/model';
import { effectiveRuntimeKind } from './runtimeKind';

/**
 * The group nginx's worker processes run as, so the boot service can make its unix socket 0660 for exactly that group
 * (nobody else can reach the service and forge X-SSL-Client-* headers). The generated nginx.conf has no `user`
 * directive; each runtime passes it with -g: the podman image's workers run as nginx (uid/gid 101), Debian's local
 * nginx started as root runs them as www-data. Started as another user, workers keep that user's group. A farm set to
 * podman on a machine without podman runs the local nginx (effectiveRuntimeKind), and so gets the local answer.
 */
export function nginxWorkerGroupName(farm: Farm): string | undefined {
  if (effectiveRuntimeKind(farm) === 'podman') return 'nginx';
  return process.getuid?.() === 0 ? 'www-data' : undefined;
}

export function nginxWorkerGid(farm: Farm): number | undefined {
  if (effectiveRuntimeKind(farm) === 'podman') return 101;
  const name = nginxWorkerGroupName(farm);
  if (!name) return process.getgid?.();
  try {
    const line = fs.readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    return line ? Number(line.split(':')[2]) : undefined;
  } catch {
    return undefined;
  }
}
