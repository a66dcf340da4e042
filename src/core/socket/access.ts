import type { Farm, NginxRuntimeKind } from '../farm/light';
import { localWorkerGid, localWorkerGroupName } from './workerGroup';

/**
 * Who the boot service's socket is opened to: nobody but nginx's workers may connect, or they could forge the
 * X-SSL-Client-* headers and read every script and secret.
 *
 * - `group`: a local nginx. The runtime folder lets the workers' group pass, the socket folder and socket belong to it.
 * - `container`: nginx in podman. The socket folder is bind-mounted into the farm's container, and on the host the
 *   runtime folder stays 0700, so no host user but the farm's owner (and root) gets near the socket. Inside the
 *   container the socket is open to its processes, which are nginx alone; no host group id is involved at all, so it
 *   does not matter which host group shares a number with the image's nginx group (gid 101 is `_ssh` on Debian), nor
 *   whether podman runs rootful or rootless (where the container's ids map to sub-ids).
 */
export type SocketAccess =
  | { kind: 'group'; gid?: number; group?: string }
  | { kind: 'container'; container: string };

/** Decided by the runtime serving the farm (an opened farm's `runtime.kind`: its run record first), not the file's wish. */
export function bootSocketAccess(farm: Farm, runtime: NginxRuntimeKind): SocketAccess {
  if (runtime === 'podman') return { kind: 'container', container: farm.nginx.container };
  return { kind: 'group', gid: localWorkerGid(), group: localWorkerGroupName() };
}
