import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { farmLayout } from '../farm/layout';

/**
 * One line of the boot-events log (`.ipxe-farm/boot-events.jsonl`): who asked, what they got. Never the script body,
 * never a secret: only names, the certificate's fingerprint and the outcome.
 */
export interface BootEvent {
  time: string;
  status: number;
  path: string;
  client?: string;
  fingerprint?: string;
  serial?: string;
  profile?: string;
  /** Why a request was refused. */
  reason?: string;
}

/** Appends events through one open file descriptor (O_APPEND: each line lands whole, even with several writers). */
export class BootEventLog {
  private fd: number | undefined;
  constructor(readonly file: string) {}

  open(): void {
    this.fd = fs.openSync(this.file, 'a', 0o640);
  }

  append(e: BootEvent): void {
    if (this.fd === undefined) this.open();
    fs.write(this.fd!, `${JSON.stringify(e)}\n`, () => undefined);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** How far back readLastBoots looks: the tail of the log, so a long-running farm's big log stays cheap to show. */
const TAIL_BYTES = 4 * 1024 * 1024;

export async function readBootEvents(root: string, tailBytes = TAIL_BYTES): Promise<BootEvent[]> {
  const file = farmLayout(root).bootEvents;
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - tailBytes);
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    if (start > 0) lines.shift(); // cut mid-line
    const out: BootEvent[] = [];
    for (const l of lines) {
      if (!l.trim()) continue;
      try { out.push(JSON.parse(l) as BootEvent); } catch { /* a torn last line while the service writes */ }
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** The newest boot event of each client (the editor's "last boot" per client). */
export async function readLastBoots(root: string): Promise<Record<string, BootEvent>> {
  const last: Record<string, BootEvent> = {};
  for (const e of await readBootEvents(root)) if (e.client) last[e.client] = e;
  return last;
}
