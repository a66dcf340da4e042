import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../fs/atomic';
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

function parse(text: string): NginxRunRecord | undefined {
  try {
    const v = JSON.parse(text) as Partial<NginxRunRecord>;
    if ((v.kind === 'podman' || v.kind === 'local') && typeof v.where === 'string' && typeof v.startedAt === 'string') {
      return { kind: v.kind, where: v.where, startedAt: v.startedAt };
    }
  } catch { /* a torn or foreign file says nothing */ }
  return undefined;
}

/** Synchronous: the boot service and the socket checks ask while they set up, before anything is served. */
export function readRunRecord(layout: FarmLayout): NginxRunRecord | undefined {
  try {
    return parse(fs.readFileSync(runRecordFile(layout), 'utf8'));
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
