// The line protocol between a suite running in the extension host and the harness (see scripts/vscode-test.mjs).
// The workbench forwards ALL its logging (chat, auth, gallery lookups…) through the same channel as the extension
// host's console, with nothing to tell them apart; so the suite marks its own lines (test/vscode/host-console.ts):
//   @@| TEXT                                              a line of the suite's output
//   @@vscode-result {"passed":N,"failed":N,"skipped":N}   the suite's own count, printed last by test/vscode/index.ts
//   @@screenshot NAME                                      take a screenshot of the workbench as NAME.png
//   @@dom NAME SELECTOR                                    write the innerText of the workbench elements matching
//                                                          the CSS SELECTOR to $IPXE_FARM_HARNESS_DIR/NAME.json
//   @@page NAME JSON                                       a page action (click, type, press, measure: see
//                                                          test/vscode/page.ts); the answer goes to NAME.json too
// Unmarked lines are the workbench's: kept (for the log and for diagnosing a failed run), not printed.
import { appendFileSync } from 'node:fs';

export const SUITE_MARK = '@@| ';
// Not anchored at the start: desktop VS Code may put its own prefix before what the extension host printed.
const SCREENSHOT = /@@screenshot ([A-Za-z0-9._-]{1,80})\s*$/;
const RESULT = /@@vscode-result (\{.*\})\s*$/;
const DOM = /@@dom ([A-Za-z0-9._-]{1,80}) (.+)$/;
const PAGE = /@@page ([A-Za-z0-9._-]{1,80}) (\{.*\})\s*$/;

export class LineRouter {
  /**
   * @param {object} o
   * @param {(line: string) => void} o.onLine          each suite line
   * @param {(name: string) => Promise<void>} o.onScreenshot
   * @param {string} [o.workbenchLog]                   file collecting the unmarked (workbench) lines
   */
  constructor({ onLine, onScreenshot, onDom, onPage, workbenchLog }) {
    this.onLine = onLine;
    this.onScreenshot = onScreenshot;
    this.onDom = onDom;
    this.onPage = onPage;
    this.workbenchLog = workbenchLog;
    this.result = undefined;
    this.lines = [];
    this.workbench = [];
    this.sawSuite = false;
    this.firstAt = undefined; // when the suite's first line arrived (Date.now())
    this.resultAt = undefined; // when its @@vscode-result arrived
    // Screenshots are taken one at a time, in the order the suite asked for them.
    this.pending = Promise.resolve();
  }

  push(text, level = 'info') {
    const workbench = [];
    for (const raw of String(text).split(/\r?\n/)) {
      const at = raw.indexOf(SUITE_MARK);
      const marked = at >= 0;
      const line = (marked ? raw.slice(at + SUITE_MARK.length) : raw).replace(/\s+$/, '');
      const shot = SCREENSHOT.exec(line);
      if (shot) {
        this.sawSuite = true;
        const name = shot[1];
        this.pending = this.pending.then(() => this.onScreenshot(name)).catch((err) => this.emit(`# screenshot "${name}" failed: ${err.message}`));
        continue;
      }
      const dom = DOM.exec(line);
      if (dom) {
        this.sawSuite = true;
        const [, name, selector] = dom;
        // Answered in order with the screenshots: a query after a screenshot sees the same screen.
        this.pending = this.pending.then(() => this.onDom?.(name, selector)).catch((err) => this.emit(`# dom query "${name}" failed: ${err.message}`));
        continue;
      }
      const act = PAGE.exec(line);
      if (act) {
        this.sawSuite = true;
        const [, name, json] = act;
        this.pending = this.pending.then(() => this.onPage?.(name, json)).catch((err) => this.emit(`# page action "${name}" failed: ${err.message}`));
        continue;
      }
      const result = RESULT.exec(line);
      if (result) {
        this.sawSuite = true;
        this.resultAt = Date.now();
        try { this.result = JSON.parse(result[1]); } catch { this.emit(`# unreadable result line: ${line}`); }
        continue;
      }
      if (marked) {
        this.sawSuite = true;
        this.firstAt ??= Date.now();
        this.emit(line);
      } else {
        workbench.push(line);
      }
    }
    if (workbench.length) {
      // One entry per message (an error and its stack stay together).
      const entry = { level, text: workbench.join('\n') };
      this.workbench.push(entry);
      if (this.workbench.length > 400) this.workbench.shift();
      if (this.workbenchLog) { try { appendFileSync(this.workbenchLog, `[${level}] ${entry.text}\n`); } catch { /* a log */ } }
    }
  }

  /** The last errors the workbench and extension host logged, minus what an offline machine always logs. */
  workbenchErrors(max = 5) {
    const offlineNoise = /ENOTFOUND|EAI_AGAIN|authentication provider|open-vsx|marketplace|gallery/i;
    return this.workbench.filter((e) => e.level === 'error' && !offlineNoise.test(e.text)).slice(-max);
  }

  emit(line) {
    this.lines.push(line);
    this.onLine(line);
  }

  drain() {
    return this.pending;
  }
}

/** The closing line scripts/test.mjs reads: `N passed, N failed` and `, N skipped` only when some were skipped. */
export function summaryLine({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
}
