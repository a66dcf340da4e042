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

/**
 * Appends events through one open file descriptor (O_APPEND: each write lands whole, even with several writers).
 * Lines of one event-loop turn are written together, so a burst of boots costs one write, not one per request.
 */
export class BootEventLog {
  private fd: number | undefined;
  private pending: string[] = [];
  private scheduled = false;
  constructor(readonly file: string) {}

  open(): void {
    this.fd = fs.openSync(this.file, 'a', 0o640);
  }

  append(e: BootEvent): void {
    this.pending.push(`${JSON.stringify(e)}\n`);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    if (this.fd === undefined) this.open();
    const text = this.pending.join('');
    this.pending = [];
    try { fs.writeSync(this.fd!, text); } catch { /* a full disk must not stop boots; the service log says so elsewhere */ }
  }

  close(): void {
    this.flush();
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

/**
 * The newest boot event of each client (the editor's "last boot" per client). A machine that asked /why.ipxe (the
 * boot service's WHY_PATH) after a failed boot got a 200 with words, not a boot: it must not hide that failure.
 */
export async function readLastBoots(root: string): Promise<Record<string, BootEvent>> {
  const last: Record<string, BootEvent> = {};
  for (const e of await readBootEvents(root)) if (e.client && e.path?.split('?')[0] !== '/why.ipxe') last[e.client] = e;
  return last;
}
