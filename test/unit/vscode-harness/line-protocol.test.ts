// The line protocol between a suite in the extension host and the VS Code harness (scripts/lib/vscode-lines.mjs):
// what is shown, what is kept as workbench noise, and how counts, screenshots and DOM queries are picked out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

interface Router {
  push(text: string, level?: string): void;
  drain(): Promise<void>;
  workbenchErrors(max?: number): { level: string; text: string }[];
  result?: { passed: number; failed: number; skipped: number };
  lines: string[];
  sawSuite: boolean;
  onDom?: (name: string, selector: string) => Promise<void>;
}
interface Lines {
  LineRouter: new (o: { onLine: (l: string) => void; onScreenshot: (n: string) => Promise<void> }) => Router;
  summaryLine(c: { passed: number; failed: number; skipped: number }): string;
}

// The bundle lives in out/test/unit/vscode-harness: the repository is four levels up.
const lines = (): Promise<Lines> => import(path.resolve(__dirname, '..', '..', '..', '..', 'scripts', 'lib', 'vscode-lines.mjs')) as Promise<Lines>;

test('marked lines are the suite output; unmarked ones are workbench noise, kept whole for diagnosis', async () => {
  const { LineRouter } = await lines();
  const shown: string[] = [];
  const r = new LineRouter({ onLine: (l) => shown.push(l), onScreenshot: async () => {} });
  r.push('[AgentHost] No signed-in session');
  assert.equal(r.sawSuite, false);
  r.push('@@|   Foundation\n@@|     ✔ works   ');
  r.push('Error: boom\n    at run (/x.js:1:2)', 'error');
  r.push('getaddrinfo ENOTFOUND open-vsx.org', 'error');
  assert.deepEqual(shown, ['  Foundation', '    ✔ works']);
  assert.equal(r.sawSuite, true);
  assert.deepEqual(r.workbenchErrors(), [{ level: 'error', text: 'Error: boom\n    at run (/x.js:1:2)' }]);
});

test('the result line is read, also behind a prefix desktop VS Code may add, and is not shown', async () => {
  const { LineRouter } = await lines();
  const shown: string[] = [];
  const r = new LineRouter({ onLine: (l) => shown.push(l), onScreenshot: async () => {} });
  r.push('[main 12:00:00] @@vscode-result {"passed":5,"failed":1,"skipped":2}');
  assert.deepEqual(r.result, { passed: 5, failed: 1, skipped: 2 });
  assert.deepEqual(shown, []);
  r.push('@@vscode-result {not json}');
  assert.deepEqual(shown, ['# unreadable result line: @@vscode-result {not json}']);
});

test('screenshots and DOM queries are served one at a time, in the order asked', async () => {
  const { LineRouter } = await lines();
  const order: string[] = [];
  const r = new LineRouter({
    onLine: (l) => order.push(`line ${l}`),
    onScreenshot: async (n) => { await new Promise((res) => setTimeout(res, 30)); order.push(`shot ${n}`); },
  });
  r.onDom = async (n, sel) => { order.push(`dom ${n} ${sel}`); };
  r.push('@@screenshot first\n@@dom q1 .pane-header .title\n@@screenshot bad name!');
  await r.drain();
  // A name the protocol does not allow is no request: nothing is taken for it.
  assert.deepEqual(order, ['shot first', 'dom q1 .pane-header .title']);
});

test('a failing screenshot is reported as a line, and later requests still run', async () => {
  const { LineRouter } = await lines();
  const shown: string[] = [];
  const r = new LineRouter({
    onLine: (l) => shown.push(l),
    onScreenshot: async (n) => { if (n === 'a') throw new Error('page gone'); shown.push(`took ${n}`); },
  });
  r.push('@@screenshot a\n@@screenshot b');
  await r.drain();
  assert.deepEqual(shown, ['# screenshot "a" failed: page gone', 'took b']);
});

test('the closing line names skipped tests only when there are some', async () => {
  const { summaryLine } = await lines();
  assert.equal(summaryLine({ passed: 7, failed: 0, skipped: 0 }), '7 passed, 0 failed');
  assert.equal(summaryLine({ passed: 7, failed: 1, skipped: 2 }), '7 passed, 1 failed, 2 skipped');
});
