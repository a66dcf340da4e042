import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../fs/atomic';
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

/** The runtime serving this farm now: the one that started it, else the one `up` would use. */
export function runtimeKindInUse(farm: Farm, layout: FarmLayout): NginxRuntimeKind {
  return readRunRecord(layout)?.kind ?? effectiveRuntimeKind(farm);
}
