import * as vscode from 'vscode';
import { findIpxeErrors, type FoundIpxeError, type IpxeErrorInfo } from '../core/ipxe';

/**
 * What both consoles in the editor (a QEMU guest's serial line, a real board's console) do as a VS Code terminal:
 * text that streams before VS Code opens the terminal is kept and shown on open, bare newlines become CR LF, what was
 * shown is kept (bounded) for tests, and iPXE error codes are found per complete line. Each console decides where typed
 * keys go, what closing means, and what it adds to an error it sees.
 */
export abstract class ConsoleTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  private readonly errorsEmitter = new vscode.EventEmitter<IpxeErrorInfo>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  /** Each iPXE error seen on the console, as it is seen (tests and the notification listen). */
  readonly onIpxeError = this.errorsEmitter.event;
  readonly errors: IpxeErrorInfo[] = [];
  /** What the console printed so far, as shown (nothing is lost before the terminal opens). */
  output = '';
  private opened = false;
  private backlog = '';
  private pending = '';

  /** `banner`: the dimmed first lines, what runs and how to stop it. */
  constructor(private readonly banner: string[]) {}

  abstract handleInput(data: string): void;
  abstract close(): void;

  open(): void {
    this.opened = true;
    this.writeEmitter.fire(`\x1b[2m${this.banner.join('\r\n')}\x1b[0m\r\n${this.backlog}`);
    this.backlog = '';
  }

  protected show(text: string): void {
    if (this.opened) this.writeEmitter.fire(text);
    else this.backlog += text;
  }

  /** Show the console's text and return the iPXE errors on the lines it completes (a code split across chunks is found once). */
  protected receive(text: string): FoundIpxeError[] {
    this.output += text;
    if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
    this.show(text.replace(/(?<!\r)\n/g, '\r\n'));
    this.pending += text;
    const cut = this.pending.lastIndexOf('\n');
    if (cut < 0) return [];
    const lines = this.pending.slice(0, cut + 1);
    this.pending = this.pending.slice(cut + 1);
    return findIpxeErrors(lines);
  }

  protected reportError(info: IpxeErrorInfo): void {
    this.errors.push(info);
    this.errorsEmitter.fire(info);
  }

  protected ended(code?: number): void {
    this.closeEmitter.fire(code);
  }
}
