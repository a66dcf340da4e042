// Marks everything this extension host prints with "@@| " so the harness can tell the suite's output from the
// workbench's own logging, which reaches it through the same channel (scripts/lib/vscode-lines.mjs). Must run before
// mocha is loaded: mocha keeps its own reference to console.log.
import { format } from 'node:util';

const MARK = '@@| ';
let installed = false;

export function markConsole(): void {
  if (installed) return;
  installed = true;
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level].bind(console);
    const marked = (...args: unknown[]) => {
      const text = format(...args);
      // Protocol lines (@@screenshot, @@vscode-result) pass unmarked: the harness reads them either way.
      original(text.startsWith('@@') ? text : text.split('\n').map((l) => MARK + l).join('\n'));
    };
    // The extension host forwards console calls through accessor properties whose setter ignores assignment:
    // redefine the property instead.
    Object.defineProperty(console, level, { configurable: true, enumerable: true, writable: true, value: marked });
  }
}

/** The count the harness turns into its closing `N passed, N failed` line; a tests entry prints it once, last. */
export function reportResult(counts: { passed: number; failed: number; skipped: number }): void {
  console.log(`@@vscode-result ${JSON.stringify(counts)}`);
}
