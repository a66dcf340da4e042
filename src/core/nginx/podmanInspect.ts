import * as z from 'zod';
import { FarmError } from '../errors';
import { parseJsonRecord } from '../fs/light';

/** The part of `podman container inspect --format json` we use, checked at the edge. */
export interface ContainerState {
  status: string;
  running: boolean;
  pid?: number;
  exitCode?: number;
  /** Config.Labels: the farm marks its container with ipxe-farm.root. */
  labels: Record<string, string>;
}

/** What podman 4.x and 5.x print, as far as we read it: other fields and other label values are ignored. */
const InspectSchema = z.array(z.object({
  State: z.object({
    Status: z.string(),
    Running: z.boolean().optional(),
    Pid: z.number().optional(),
    ExitCode: z.number().optional(),
  }),
  Config: z.object({ Labels: z.record(z.string(), z.unknown()).nullish() }).nullish(),
})).min(1);

export function parseContainerState(json: string): ContainerState {
  const r = parseJsonRecord(json, InspectSchema, 'podman inspect\'s output');
  if (!r.ok) {
    const what = r.issues ? 'did not report the container state (State.Status)' : 'printed something that is not JSON';
    throw new FarmError(`podman inspect ${what}.`, 'Check `podman --version` (4.x expected).', 'EPODMAN');
  }
  const [first] = r.value;
  const state = first!.State;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(first!.Config?.Labels ?? {})) if (typeof v === 'string') labels[k] = v;
  return {
    status: state.Status,
    running: state.Running === true || state.Status === 'running',
    pid: state.Pid !== undefined && state.Pid > 0 ? state.Pid : undefined,
    exitCode: state.ExitCode,
    labels,
  };
}
