// The extension-tests entry VS Code loads (extensionTestsPath): the same run() contract under @vscode/test-electron
// and under code-server. Runs every compiled suite/**/*.test.js beside this file with mocha's tdd UI and prints the
// count on one line the harness reads (`@@vscode-result {...}`, see scripts/vscode-test.mjs); the rest of the output
// is mocha's spec reporter, through console.log, which the workbench forwards to the harness.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type MochaType from 'mocha';
import { markConsole, reportResult } from './host-console';
import { failureScreenshot } from './screenshot';

function testFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return testFiles(p);
      return e.name.endsWith('.test.js') ? [p] : [];
    })
    .sort();
}

export function run(): Promise<void> {
  return runSuites(path.join(__dirname, 'suite'));
}

/** Mocha (tdd UI) over every *.test.js under `dir`; other tests entries (test/vscode/vsix/) reuse it. */
export function runSuites(dir: string): Promise<void> {
  markConsole();
  // Loaded only now, after markConsole(): mocha's reporters keep the console.log they find at load time.
  const Mocha = require('mocha') as typeof MochaType;
  const mocha = new Mocha({
    ui: 'tdd',
    color: false,
    reporter: 'spec',
    // Real programs run behind some of these tests (nginx, QEMU): a slow machine must not fail them by the clock alone.
    timeout: Number(process.env.IPXE_FARM_VSCODE_TEST_TIMEOUT_MS ?? 120_000),
    grep: process.env.IPXE_FARM_VSCODE_GREP || undefined,
  });
  const files = testFiles(dir);
  for (const f of files) mocha.addFile(f);
  // A failed test leaves a picture of the workbench behind: what the user would have seen.
  mocha.suite.afterEach(async function () {
    const t = this.currentTest;
    if (t?.state !== 'failed') return;
    try {
      const file = await failureScreenshot(t.fullTitle());
      if (file) console.log(`      (the workbench at this failure: ${file})`);
    } catch (err) {
      console.log(`      (no failure screenshot: ${(err as Error).message})`);
    }
  });
  return new Promise((resolve, reject) => {
    if (files.length === 0) {
      reportResult({ passed: 0, failed: 1, skipped: 0 });
      reject(new Error(`no *.test.js files under ${dir}: was the suite bundled?`));
      return;
    }
    try {
      const runner = mocha.run((failures) => {
        const s = runner.stats ?? { passes: 0, failures, pending: 0 };
        reportResult({ passed: s.passes, failed: s.failures, skipped: s.pending });
        if (failures > 0) reject(new Error(`${failures} test(s) failed inside VS Code`));
        else resolve();
      });
    } catch (err) {
      console.error(err);
      reportResult({ passed: 0, failed: 1, skipped: 0 });
      reject(err);
    }
  });
}
