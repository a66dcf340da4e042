import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDir } from '../fs/light';
import { farmLayout } from '../farm/light';
import { decodeIpxeError } from '../ipxe/light';
import { BootStageTracker } from '../qemu/light';
import { LOG_MASK, maskValues, StreamMasker, type Secrets } from '../secrets/light';

/**
 * What a board's console becomes for people: a live view with secrets masked and every iPXE error code explained
 * right after its line (the project's one StreamMasker), and a kept log (0600, each line stamped with the time it arrived) with the same.
 */
export function explainLine(code: string): string {
  const d = decodeIpxeError(code);
  return `[ipxe-farm] ${d.code}: ${d.message}.${d.cause ? ` Likely cause: ${d.cause}` : ''}${d.fix ? ` Fix: ${d.fix}` : ''}`;
}

export async function consoleLogFile(root: string, client: string, explicit?: string): Promise<string> {
  if (explicit) return path.resolve(explicit);
  const dir = path.join(farmLayout(root).runtime, 'console');
  await ensureDir(dir, 0o700);
  return path.join(dir, `${client}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
}

export class ConsoleRecorder {
  readonly tracker: BootStageTracker;
  private readonly log: fs.WriteStream;
  private readonly live: StreamMasker;
  private readonly values: string[];
  private logged = 0;
  private explainedLog = 0;
  private explainedLive = 0;
  private pending: string[] = [];
  private readonly t0 = Date.now();

  constructor(readonly logFile: string, secrets: Secrets, linuxMarker?: RegExp) {
    this.tracker = new BootStageTracker(linuxMarker);
    const fd = fs.openSync(logFile, 'a', 0o600);
    fs.fchmodSync(fd, 0o600);
    this.log = fs.createWriteStream('', { fd });
    this.values = Object.values(secrets);
    this.live = new StreamMasker(this.values);
  }

  get elapsedMs(): number { return Date.now() - this.t0; }

  /** Feed raw console bytes; returns what a person should see now. */
  feed(chunk: string): string {
    this.tracker.feed(chunk, this.elapsedMs);
    this.writeLog(false);
    let shown = this.live.push(chunk);
    while (this.explainedLive < this.tracker.errors.length) this.pending.push(this.tracker.errors[this.explainedLive++]!.code);
    // In place: each explanation goes right after the end of its error's line, which may arrive in a later chunk.
    while (this.pending.length) {
      const code = this.pending[0]!;
      const at = shown.indexOf(code);
      const nl = shown.indexOf('\n', at < 0 ? 0 : at);
      if (nl < 0) break;
      this.pending.shift();
      shown = `${shown.slice(0, nl + 1)}${explainLine(code)}\r\n${shown.slice(nl + 1)}`;
    }
    return shown;
  }

  /** A line of our own (reconnects, the verdict) in the log and the view. */
  note(text: string): string {
    this.writeLog(true);
    this.log.write(`${new Date().toISOString()} [ipxe-farm] ${maskValues(text, this.values, LOG_MASK)}\n`);
    return `\r\n[ipxe-farm] ${text}\r\n`;
  }

  private writeLog(final: boolean): void {
    const plain = this.tracker.plain;
    const cut = final ? plain.length : plain.lastIndexOf('\n') + 1;
    if (cut <= this.logged) return;
    const stamp = new Date().toISOString();
    const lines = plain.slice(this.logged, cut).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    this.logged = cut;
    let text = lines.map((l) => `${stamp} ${l}\n`).join('');
    while (this.explainedLog < this.tracker.errors.length && this.tracker.errorEnds[this.explainedLog]! <= cut) {
      text += `${stamp} ${explainLine(this.tracker.errors[this.explainedLog++]!.code)}\n`;
    }
    this.log.write(maskValues(text, this.values, LOG_MASK));
  }

  async close(): Promise<string> {
    this.writeLog(true);
    await new Promise<void>((resolve) => this.log.end(resolve));
    return this.live.flush();
  }
}
