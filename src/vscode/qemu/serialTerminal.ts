import * as vscode from 'vscode';
import { describeIpxeError, findIpxeErrors, IpxeErrorInfo } from '../../core/ipxe';
import type { QemuHandle } from '../../core/qemu';

/**
 * A running QEMU (core's launchQemu handle) as a VS Code terminal: the serial console is the terminal, keys go to the
 * guest, and every iPXE error code that scrolls by is decoded in place, with cause and fix. Core keeps the serial log;
 * closing the terminal stops QEMU.
 */
export class QemuSerialTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  private readonly errorsEmitter = new vscode.EventEmitter<IpxeErrorInfo>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  /** Each decoded iPXE error, as it is seen (tests and the notification listen). */
  readonly onIpxeError = this.errorsEmitter.event;
  readonly errors: IpxeErrorInfo[] = [];
  /** What QEMU printed so far (its console starts streaming before the terminal opens; nothing is lost). */
  output = '';
  private opened = false;
  private backlog = '';
  private pending = '';
  private readonly unsubscribe: () => void;

  constructor(readonly handle: QemuHandle) {
    this.unsubscribe = handle.onData((d) => this.onOutput(d));
    void handle.done.then((r) => {
      this.show(`\r\n\x1b[2m[QEMU ${r.reason === 'exited' ? `exited with code ${r.exitCode}` : `stopped (${r.reason})`}; serial log ${r.logFile}]\x1b[0m\r\n`);
      this.unsubscribe();
      this.closeEmitter.fire(r.exitCode ?? 0);
    });
  }

  open(): void {
    this.opened = true;
    this.writeEmitter.fire(`\x1b[2m$ ${this.handle.command}\r\n(serial log: ${this.handle.logFile}; close the terminal or press Ctrl-A X to stop)\x1b[0m\r\n${this.backlog}`);
    this.backlog = '';
  }

  private show(text: string): void {
    if (this.opened) this.writeEmitter.fire(text);
    else this.backlog += text;
  }

  private onOutput(text: string): void {
    this.output += text;
    if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
    this.show(text.replace(/(?<!\r)\n/g, '\r\n'));
    // Decode per complete line, so a code split across two chunks is still found once.
    this.pending += text;
    const cut = this.pending.lastIndexOf('\n');
    if (cut < 0) return;
    const lines = this.pending.slice(0, cut + 1);
    this.pending = this.pending.slice(cut + 1);
    for (const found of findIpxeErrors(lines)) {
      this.errors.push(found.info);
      this.errorsEmitter.fire(found.info);
      const explained = describeIpxeError(found.info).split('\n').map((l) => `  ${l}`).join('\r\n');
      this.show(`\r\n\x1b[33m[iPXE Farm] ${found.text}\r\n${explained}\x1b[0m\r\n`);
    }
  }

  handleInput(data: string): void {
    this.handle.write(data);
  }

  /** Stop QEMU (the terminal closed, or the user ran Stop). Resolves with its exit status, 137 when it was killed, as a shell says. */
  async stop(): Promise<number> {
    this.handle.kill();
    return (await this.handle.done).exitCode ?? 137;
  }

  close(): void {
    void this.stop();
  }
}
