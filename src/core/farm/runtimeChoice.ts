import { which } from '../process/light';
import type { FarmLayout } from './layout';
import type { Farm, NginxRuntimeKind } from './model';
import { readRunRecord, type NginxRunRecord } from './runRecord';

/** Program paths a caller may override (the editor's machine-scoped settings); absent: found on PATH. */
export interface FarmPrograms {
  nginx?: string;
  podman?: string;
}

/**
 * The nginx runtime an opened farm talks to, decided once when the farm is opened (openFarm): status, down, reload,
 * logs, the boot socket's access, the generated listen lines and the editor all read `kind` from here.
 */
export interface ResolvedRuntime {
  /** The runtime to talk to: the one running this farm's nginx (its run record), else the one `up` would start. */
  kind: NginxRuntimeKind;
  /** What the farm file says (nginx.runtime). */
  declared: NginxRuntimeKind;
  /** The run record of the nginx that `up` started, when one is running (or was, until `down`). */
  running?: NginxRunRecord;
  /** Why `kind` is what it is, in words for `nginx status` and the editor. */
  reason: string;
}

/**
 * The farm file's choice, except that a farm set to podman on a machine without podman but with nginx uses the local
 * nginx (the embedded default), so a fresh farm works out of the box. The one place PATH is asked about the runtime.
 */
function startable(declared: NginxRuntimeKind, programs: FarmPrograms, envPath: string): NginxRuntimeKind {
  if (declared === 'podman' && !which(programs.podman ?? 'podman', envPath) && which(programs.nginx ?? 'nginx', envPath)) return 'local';
  return declared;
}

export function resolveRuntime(farm: Farm, layout: FarmLayout, programs: FarmPrograms = {}, envPath = process.env.PATH ?? ''): ResolvedRuntime {
  const declared = farm.nginx.runtime;
  const running = readRunRecord(layout);
  if (running) {
    return {
      kind: running.kind, declared, running,
      reason: running.kind === declared ? `started ${running.startedAt}` : `started ${running.startedAt}, although ipxe-farm.json now says ${declared}`,
    };
  }
  const kind = startable(declared, programs, envPath);
  return { kind, declared, reason: kind === declared ? 'as ipxe-farm.json says' : 'ipxe-farm.json says podman, which is not installed here; nginx is' };
}
