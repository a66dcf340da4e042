import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as z from 'zod';
import { writeFileAtomic } from '../fs/atomic';
import { parseJsonRecord } from '../fs/jsonRecord';
import type { FarmLayout } from '../farm/layout';
import type { Farm, NginxRuntimeKind } from '../farm/model';
import { effectiveRuntimeKind } from './runtimeKind';

/**
 * Which runtime started the farm's nginx, written by `up` and removed by `down`. Every later question (status, down,
 * reload, logs, the boot socket's access, the editor) asks this record first, so they all talk to the nginx that is
 * actually running, even when it was started with `--runtime` or fell back from podman to local.
 */
export interface NginxRunRecord {
  kind: NginxRuntimeKind;
  /** Container name (podman) or private prefix (local), as `nginx status` prints it. */
  where: string;
  startedAt: string;
}

export function runRecordFile(layout: FarmLayout): string {
  return path.join(layout.runtime, 'nginx-run.json');
}

const NginxRunRecordSchema = z.object({
  kind: z.enum(['podman', 'local'] as const satisfies readonly NginxRuntimeKind[]),
  where: z.string(),
  startedAt: z.string(),
}) satisfies z.ZodType<NginxRunRecord>;

/** A torn or foreign file says nothing: the runtime `up` would use answers instead. */
function parse(text: string, file: string): NginxRunRecord | undefined {
  const r = parseJsonRecord(text, NginxRunRecordSchema, file);
  return r.ok ? r.value : undefined;
}

/** Synchronous: the boot service and the socket checks ask while they set up, before anything is served. */
export function readRunRecord(layout: FarmLayout): NginxRunRecord | undefined {
  try {
    const file = runRecordFile(layout);
    return parse(fs.readFileSync(file, 'utf8'), file);
  } catch {
    return undefined;
  }
}

export async function writeRunRecord(layout: FarmLayout, record: NginxRunRecord): Promise<void> {
  await writeFileAtomic(runRecordFile(layout), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

export async function clearRunRecord(layout: FarmLayout): Promise<void> {
  await fsp.rm(runRecordFile(layout), { force: true });
}

/** The runtime serving this farm now: the one that started it, else the one `up` would use. */
export function runtimeKindInUse(farm: Farm, layout: FarmLayout): NginxRuntimeKind {
  return readRunRecord(layout)?.kind ?? effectiveRuntimeKind(farm);
}
