import type { Farm, NginxRuntimeKind } from '../farm/model';
import { which } from '../process/run';

/**
 * The runtime that will actually serve: the farm's choice, except that a farm set to podman on a machine without
 * podman but with nginx uses the local nginx (the embedded default), so a fresh farm works out of the box.
 */
export function effectiveRuntimeKind(farm: Farm, envPath = process.env.PATH ?? ''): NginxRuntimeKind {
  if (farm.nginx.runtime === 'podman' && !which('podman', envPath) && which('nginx', envPath)) return 'local';
  return farm.nginx.runtime;
}
