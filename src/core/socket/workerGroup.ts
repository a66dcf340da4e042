import * as fs from 'node:fs';

/**
 * The host group a local nginx's worker processes run as, so the boot service can make its unix socket 0660 for exactly
 * that group (nobody else can reach the service and forge X-SSL-Client-* headers). The generated nginx.conf has no
 * `user` directive; the local runtime passes it with -g: Debian's nginx started as root runs them as www-data; started
 * as another user, workers keep that user's group. The podman runtime needs no host group at all (its image's nginx
 * gid, 101, is a host group such as Debian's `_ssh`): see socketAccess.ts.
 */
export function localWorkerGroupName(): string | undefined {
  return process.getuid?.() === 0 ? 'www-data' : undefined;
}

export function localWorkerGid(): number | undefined {
  const name = localWorkerGroupName();
  if (!name) return process.getgid?.();
  try {
    const line = fs.readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    return line ? Number(line.split(':')[2]) : undefined;
  } catch {
    return undefined;
  }
}
