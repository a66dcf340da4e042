import { ConsoleTerminal } from '../consoleTerminal';

/**
 * A real board's console during ▶ as a VS Code terminal, the QEMU terminal's twin: core's boot verdict hands it the
 * console already masked (StreamMasker) with each iPXE error explained in place, keys typed go to the board, and
 * closing the terminal cancels the boot.
 */
export class BoardConsoleTerminal extends ConsoleTerminal {
  private toBoard: ((input: string) => void) | undefined;
  private readonly abort = new AbortController();
  readonly signal = this.abort.signal;

  constructor(title: string) {
    super([title, '(close the terminal to cancel the boot)']);
  }

  /** The console, as core's verdict gives it. */
  console(text: string): void {
    for (const found of this.receive(text)) {
      // The explanation lines core inserted name the code too: only iPXE's own lines count.
      if (found.text.startsWith('[ipxe-farm]')) continue;
      this.reportError(found.info);
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
    this.ended();
  }
}
