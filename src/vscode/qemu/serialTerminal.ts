import * as vscode from 'vscode';
import * as fs from 'node:fs';
import { describeIpxeError, findIpxeErrors, IpxeErrorInfo } from '../../core/ipxe/errors';
import { start } from '../../core/process/run';

export interface SerialRun {
  program: string;
  args: string[];
  /** Where the whole serial console is kept (the farm's runtime folder). */
  logFile: string;
  title: string;
}

/**
 * QEMU `-nographic` in a VS Code terminal: the serial console is the terminal (keys go to the guest), the whole
 * output is kept in a log file, and every iPXE error code that scrolls by is decoded in place, with cause and fix.
 * Closing the terminal stops QEMU.
 */
export class QemuSerialTerminal implements vscode.Pseudoterminal {
  private readonly write = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  private readonly errorsEmitter = new vscode.EventEmitter<IpxeErrorInfo>();
  readonly onDidWrite = this.write.event;
  readonly onDidClose = this.closeEmitter.event;
  /** Each decoded iPXE error, as it is seen (tests and the notification listen). */
  readonly onIpxeError = this.errorsEmitter.event;
  readonly errors: IpxeErrorInfo[] = [];
  private child: ReturnType<typeof start> | undefined;
  private log: fs.WriteStream | undefined;
  private pending = '';
  private exited: Promise<number> | undefined;
  output = '';

  constructor(readonly run: SerialRun) {}

  open(): void {
    this.log = fs.createWriteStream(this.run.logFile, { flags: 'a', mode: 0o600 });
    this.write.fire(`\x1b[2m$ ${this.run.program} ${this.run.args.join(' ')}\r\n(serial log: ${this.run.logFile}; close the terminal or press Ctrl-A X to stop)\x1b[0m\r\n`);
    try {
      this.child = start(this.run.program, this.run.args, { group: true });
    } catch (err) {
      this.write.fire(`\x1b[31m${(err as Error).message}\x1b[0m\r\n`);
      this.closeEmitter.fire(1);
      return;
    }
    const onData = (d: Buffer | string) => this.onOutput(String(d));
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = this.child.then((r) => r.exitCode ?? -1);
    void this.exited.then((code) => {
      this.write.fire(`\r\n\x1b[2m[QEMU exited with code ${code}]\x1b[0m\r\n`);
      this.log?.end();
      this.closeEmitter.fire(code);
    });
  }

  private onOutput(text: string): void {
    this.log?.write(text);
    this.output += text;
    if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
    this.write.fire(text.replace(/(?<!\r)\n/g, '\r\n'));
    // Decode per complete line, so a code split across two chunks is still found once.
    this.pending += text;
    const cut = this.pending.lastIndexOf('\n');
    if (cut < 0) return;
    const lines = this.pending.slice(0, cut + 1);
    this.pending = this.pending.slice(cut + 1);
    for (const found of findIpxeErrors(lines)) {
      this.errors.push(found.info);
      this.errorsEmitter.fire(found.info);
      const text = describeIpxeError(found.info).split('\n').map((l) => `  ${l}`).join('\r\n');
      this.write.fire(`\r\n\x1b[33m[iPXE Farm] ${found.text}\r\n${text}\x1b[0m\r\n`);
    }
  }

  handleInput(data: string): void {
    this.child?.stdin?.write(data);
  }

  /** Stop QEMU (the terminal closed, or the user ran Stop). Resolves with its exit code. */
  async stop(): Promise<number | undefined> {
    if (!this.child) return undefined;
    if (this.child.pid) try { process.kill(-this.child.pid, 'SIGTERM'); } catch { /* gone */ }
    const t = setTimeout(() => { if (this.child?.pid) try { process.kill(-this.child.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  close(): void {
    void this.stop();
  }
}
