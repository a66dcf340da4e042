import { UsageError } from '../../core/errors';
import type { NginxRuntimeKind } from '../../core/farm';

/** `--runtime podman|local`, for `init` and the nginx commands: anything else is a usage error (exit 2). */
export function runtimeOption(o: Record<string, unknown>): NginxRuntimeKind | undefined {
  const kind = o.runtime as string | undefined;
  if (kind !== undefined && kind !== 'podman' && kind !== 'local') throw new UsageError(`--runtime must be podman or local, not "${kind}".`);
  return kind;
}
