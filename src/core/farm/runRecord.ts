import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as z from 'zod';
import { writeFileAtomic, parseJsonRecord } from '../fs/light';
import type { FarmLayout } from './layout';
import type { NginxRuntimeKind } from './model';

/**
 * Which runtime started the farm's nginx, written by `up` and removed by `down`. An opened farm (handle.ts) reads it
 * once, and every later question (status, down, reload, logs, the boot socket's access, the editor) asks the opened
 * farm, so they all talk to the nginx that is actually running, even when it was started with `--runtime` or fell
 * back from podman to local.
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
