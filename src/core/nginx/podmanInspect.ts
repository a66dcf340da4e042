import { FarmError } from '../errors';

/** The part of `podman container inspect --format json` we use, checked at the edge. */
export interface ContainerState {
  status: string;
  running: boolean;
  pid?: number;
  exitCode?: number;
  /** Config.Labels: the farm marks its container with ipxe-farm.root. */
  labels: Record<string, string>;
}

export function parseContainerState(json: string): ContainerState {
  let v: unknown;
  try { v = JSON.parse(json); } catch { throw new FarmError('podman inspect printed something that is not JSON.', 'Check `podman --version` (4.x expected).', 'EPODMAN'); }
  const first = Array.isArray(v) ? v[0] : undefined;
  const state = (first as { State?: unknown } | undefined)?.State as Record<string, unknown> | undefined;
  if (!state || typeof state.Status !== 'string') {
    throw new FarmError('podman inspect did not report the container state (State.Status).', 'Check `podman --version` (4.x expected).', 'EPODMAN');
  }
  const pid = typeof state.Pid === 'number' && state.Pid > 0 ? state.Pid : undefined;
  const rawLabels = ((first as { Config?: { Labels?: unknown } }).Config?.Labels ?? {}) as Record<string, unknown>;
  const labels: Record<string, string> = {};
  if (rawLabels && typeof rawLabels === 'object') for (const [k, v] of Object.entries(rawLabels)) if (typeof v === 'string') labels[k] = v;
  return {
    status: state.Status,
    running: state.Running === true || state.Status === 'running',
    pid,
    exitCode: typeof state.ExitCode === 'number' ? state.ExitCode : undefined,
    labels,
  };
}
