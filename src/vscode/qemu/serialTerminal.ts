import { describeIpxeError } from '../../core/ipxe';
import type { QemuHandle } from '../../core/qemu';
import { ConsoleTerminal } from '../consoleTerminal';

/**
 * A running QEMU (core's launchQemu handle) as a VS Code terminal: the serial console is the terminal, keys go to the
 * guest, and every iPXE error code that scrolls by is decoded in place, with cause and fix. Core keeps the serial log;
 * closing the terminal stops QEMU.
 */
export class QemuSerialTerminal extends ConsoleTerminal {
  private readonly unsubscribe: () => void;

  constructor(readonly handle: QemuHandle) {
    super([`$ ${handle.command}`, `(serial log: ${handle.logFile}; close the terminal or press Ctrl-A X to stop)`]);
    this.unsubscribe = handle.onData((d) => this.onOutput(d));
    void handle.done.then((r) => {
      this.show(`\r\n\x1b[2m[QEMU ${r.reason === 'exited' ? `exited with code ${r.exitCode}` : `stopped (${r.reason})`}; serial log ${r.logFile}]\x1b[0m\r\n`);
      this.unsubscribe();
      this.ended(r.exitCode ?? 0);
    });
  }

  private onOutput(text: string): void {
    for (const found of this.receive(text)) {
      this.reportError(found.info);
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
