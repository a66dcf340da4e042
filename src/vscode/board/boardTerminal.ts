import * as vscode from 'vscode';
import { findIpxeErrors, type IpxeErrorInfo } from '../../core/ipxe';

/**
 * A real board's console during ▶ as a VS Code terminal, the QEMU terminal's twin: core's boot verdict hands it the
 * console already masked (StreamMasker) with each iPXE error explained in place, keys typed go to the board, and
 * closing the terminal cancels the boot.
 */
export class BoardConsoleTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  private readonly errorsEmitter = new vscode.EventEmitter<IpxeErrorInfo>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  /** Each iPXE error seen on the console (the notification listens). */
  readonly onIpxeError = this.errorsEmitter.event;
  readonly errors: IpxeErrorInfo[] = [];
  /** What the console showed so far, as shown (masked). */
  output = '';
  private opened = false;
  private backlog = '';
  private pending = '';
  private toBoard: ((input: string) => void) | undefined;
  private readonly abort = new AbortController();
  readonly signal = this.abort.signal;

  constructor(private readonly title: string) {}

  open(): void {
    this.opened = true;
    this.writeEmitter.fire(`\x1b[2m${this.title}\r\n(close the terminal to cancel the boot)\x1b[0m\r\n${this.backlog}`);
    this.backlog = '';
  }

  private show(text: string): void {
    if (this.opened) this.writeEmitter.fire(text);
    else this.backlog += text;
  }

  /** The console, as core's verdict gives it. */
  console(text: string): void {
    this.output += text;
    if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
    this.show(text.replace(/(?<!\r)\n/g, '\r\n'));
    this.pending += text;
    const cut = this.pending.lastIndexOf('\n');
    if (cut < 0) return;
    const lines = this.pending.slice(0, cut + 1);
    this.pending = this.pending.slice(cut + 1);
    for (const found of findIpxeErrors(lines)) {
      // The explanation lines core inserted name the code too: only iPXE's own lines count.
      if (found.text.startsWith('[ipxe-farm]')) continue;
      this.errors.push(found.info);
      this.errorsEmitter.fire(found.info);
    }
  }

  /** One line of iPXE Farm's own (power switched, console waiting, the verdict), dimmed apart from the board's words. */
  note(line: string): void {
    this.show(`\r\n\x1b[2m[ipxe-farm] ${line}\x1b[0m\r\n`);
  }

  attach(write: (input: string) => void): void {
    this.toBoard = write;
  }

  /** The verdict is in (or the boot failed to start): say so; the terminal stays open to be read. */
  finish(line: string, ok: boolean): void {
    this.toBoard = undefined;
    this.show(`\r\n\x1b[${ok ? 32 : 31}m${line}\x1b[0m\r\n`);
  }

  handleInput(data: string): void {
    this.toBoard?.(data);
  }

  /** Cancel the boot (the terminal closed, or Stop). */
  cancel(): void {
    this.abort.abort();
  }

  close(): void {
    this.cancel();
    this.closeEmitter.fire();
  }
}
