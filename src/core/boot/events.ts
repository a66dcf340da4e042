import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as z from 'zod';
import { FarmError } from '../errors';
import { farmLayout } from '../farm/light';
import { parseJsonLine } from '../fs/light';

/**
 * One line of the boot-events log (`.ipxe-farm/boot-events.jsonl`): who asked, what they got. Never the script body,
 * never a secret: only names, the certificate's fingerprint and the outcome.
 */
const BootEventSchema = z.object({
  time: z.string(),
  status: z.number(),
  path: z.string(),
  client: z.string().optional(),
  fingerprint: z.string().optional(),
  serial: z.string().optional(),
  profile: z.string().optional(),
  /** Why a request was refused. */
  reason: z.string().optional(),
  /** A secret file's path in the initramfs, on the events of its one-time URL (never its contents or token). */
  secretFile: z.string().optional(),
});
export type BootEvent = z.output<typeof BootEventSchema>;

export interface BootEventLogOptions {
  /**
   * Called when events cannot be written (full disk, file made unwritable): once when writing starts to fail, and with
   * `undefined` when it works again. Boots never wait for or fail on the log; the events of a failing write are dropped
   * (counted in `lost`) so a full disk cannot grow the service's memory.
   */
  onWriteError?(err: NodeJS.ErrnoException | undefined, lost: number): void;
}

/**
 * Appends events through one open file descriptor (O_APPEND: each write lands whole, even with several writers).
 * Lines of one event-loop turn are written together, so a burst of boots costs one write, not one per request, and an
 * event is on disk as soon as the turn that answered it ends (the editor's "last boot" and the tests read it then).
 * Measured under keep-alive load (≈ 30 events a turn) the write is ≈ 8 % of the service's CPU per request; a timer
 * would save most of that and make the log lag behind the answers.
 */
export class BootEventLog {
  private fd: number | undefined;
  private pending: string[] = [];
  private scheduled = false;
  private failing = false;
  /** Events dropped because they could not be written, since the last successful write. */
  lost = 0;
  constructor(readonly file: string, private readonly opts: BootEventLogOptions = {}) {}

  /** Opens the log now, so a log the service cannot write stops it at start with one clear sentence. */
  open(): void {
    try {
      this.fd = fs.openSync(this.file, 'a', 0o640);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new FarmError(`Cannot open the boot-events log ${this.file} for appending: ${code}.`, 'Give the service write access to that file and its folder.', code);
    }
  }

  append(e: BootEvent): void {
    this.pending.push(`${JSON.stringify(e)}\n`);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Write what is pending now. Never throws: a failure is reported through onWriteError and serving goes on. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    try {
      if (this.fd === undefined) this.fd = fs.openSync(this.file, 'a', 0o640);
      const buf = Buffer.from(lines.join(''), 'utf8');
      // A regular file takes the whole write or fails; the loop only guards against a short write.
      for (let off = 0; off < buf.length;) off += fs.writeSync(this.fd, buf, off, buf.length - off);
      if (this.failing) {
        this.failing = false;
        this.opts.onWriteError?.(undefined, this.lost);
        this.lost = 0;
      }
    } catch (err) {
      this.lost += lines.length;
      if (!this.failing) {
        this.failing = true;
        this.opts.onWriteError?.(err as NodeJS.ErrnoException, this.lost);
      }
    }
  }

  /** Writes every pending event and closes the file: nothing answered before close() is lost on a normal stop. */
  close(): void {
    this.flush();
    if (this.fd !== undefined) {
      try { fs.closeSync(this.fd); } catch { /* already gone; nothing is pending */ }
    }
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
      const e = parseJsonLine(l, BootEventSchema); // undefined: a torn last line while the service writes
      if (e) out.push(e);
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
