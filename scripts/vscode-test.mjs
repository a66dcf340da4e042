#!/usr/bin/env node
// The extension's suite inside a REAL VS Code (part of `npm test`; alone: `node scripts/vscode-test.mjs`).
//
// What it does: builds the extension (npm run -s build), bundles test/vscode into out/vscode-test/run-<pid>/ (a
// folder of this run's own, removed afterwards: scripts/test.mjs wipes out/test/ whenever anyone runs the node suites,
// which raced with VS Code loading ours), then runs its index.js (mocha over suite/**/*.test.js) in
//   - desktop VS Code through @vscode/test-electron, when VS Code can be downloaded (probed in ≤3 s) and there is a
//     display ($DISPLAY or xvfb-run); otherwise
//   - code-server 4.139.1 (VS Code 1.139.1) on 127.0.0.1 driven by headless Debian chromium through Playwright,
//     installed on first use into ${XDG_CACHE_HOME:-~/.cache}/ipxe-farm/vscode-test/ (~2.5 min, ~800 MB, log in
//     setup.log there) and reused afterwards.
// Each run gets a temp HOME/XDG_*/TMPDIR and a fresh empty workspace folder; every process it starts is killed (its
// whole process group) at the end, also on failure, timeout or Ctrl-C.
// Then (default suite only) a second code-server with workspace trust on and the farm folder untrusted
// (test/vscode/untrusted/, farm made by scripts/lib/vscode-untrusted.mjs), and the packaged extension: `vsce package` into the run's folder, installed with
// --install-extension into a fresh VS Code whose --list-extensions must show it, and test/vscode/vsix/ run against
// the installed copy (loads from the extensions folder, carries no sources, activates, Create Farm works).
//
// Output contract: stdout is the suite's own output (mocha's spec reporter, from the extension host), then exactly
// one last line `N passed, N failed` (`, N skipped` appended when some were skipped). Exit 0 only when all passed.
// Setup and harness notes go to stderr.
//
// Options (flag, or environment variable):
//   --entry FILE        IPXE_FARM_VSCODE_TESTS        another tests entry instead of test/vscode/index.ts: a .ts
//                                                     in the repository (bundled into the run's folder) or a .js,
//                                                     exporting run()
//   --env K=V           (repeatable)                  added to the extension host's environment
//   --workspace DIR     IPXE_FARM_VSCODE_WORKSPACE    open DIR instead of a fresh empty folder
//   --screenshots DIR   IPXE_FARM_VSCODE_SCREENSHOTS  where screenshots go (code-server runner only)
//   --runner R          IPXE_FARM_VSCODE_RUNNER       auto (default) | code-server | electron
//   --timeout SECONDS   IPXE_FARM_VSCODE_TIMEOUT      whole run (default 900: the suite grows; each test has its own 120 s limit)
//   --grep TEXT         IPXE_FARM_VSCODE_GREP         only tests whose title matches (mocha grep)
//   --no-build                                        keep out/extension.js as it is (the suite is bundled anyway)
//   --no-vsix           IPXE_FARM_VSCODE_VSIX=0       skip the packaged-extension check
//   --no-untrusted      IPXE_FARM_VSCODE_UNTRUSTED=0  skip the untrusted-workspace run (test/vscode/untrusted/)
//   IPXE_FARM_KEEP_SANDBOX=1 keeps the temp HOME/logs; IPXE_FARM_VERBOSE=1 shows the npm install output;
//   IPXE_FARM_CODE_SERVER_ARGS="…" adds code-server flags; IPXE_FARM_CHROMIUM names another Chromium/Chrome binary.
//
// Protocol between a suite and the harness, one console.log line each (scripts/lib/vscode-lines.mjs):
//   @@| TEXT               a line of the suite's output: test/vscode/host-console.ts markConsole() marks every
//                          console line of the extension host so; unmarked lines are the workbench's own logging
//                          (chat, auth, gallery…), kept in the sandbox's logs/workbench.log, shown on stderr on failure
//   @@screenshot NAME      the harness saves the workbench as DIR/NAME.png (test/vscode/screenshot.ts sends it and
//                          waits for the file; the extension host sees DIR as $IPXE_FARM_SCREENSHOT_DIR)
//                          A failed test is photographed too (test/vscode/index.ts), as failed-<title>.png in the
//                          screenshots folder, or out/vscode-test/failures/ when none was given
//   @@dom NAME SELECTOR    the harness writes the innerText of the workbench elements matching SELECTOR to
//                          $IPXE_FARM_HARNESS_DIR/NAME.json (test/vscode/dom.ts: domTexts(), waitForDomText();
//                          code-server runner only, harnessCanSeeScreen() tells)
//   @@vscode-result {"passed":N,"failed":N,"skipped":N}   the count, printed by test/vscode/index.ts after mocha
// A tests entry of your own calls markConsole() first and reportResult() last (both in test/vscode/host-console.ts),
// or its output is not shown and the run counts as 1 failed.
// From a script (benchmarks): bench/vscode/harness.mjs exposes the same run as a function.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildExtension, bundleEntry, bundleSuite, removeBundles } from './lib/vscode-build.mjs';
import { summaryLine } from './lib/vscode-lines.mjs';
import { runVsCodeTests } from './lib/vscode-run.mjs';
import { describeSize, manifest, packageVsix, verifyVsix } from './lib/vscode-package.mjs';
import { bundleSuiteDir, runBundleDir } from './lib/vscode-build.mjs';
import { prepareUntrustedFarm } from './lib/vscode-untrusted.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';

const { values } = parseArgs({
  options: {
    entry: { type: 'string' },
    env: { type: 'string', multiple: true },
    workspace: { type: 'string' },
    screenshots: { type: 'string' },
    runner: { type: 'string' },
    timeout: { type: 'string' },
    grep: { type: 'string' },
    'no-build': { type: 'boolean' },
    'no-vsix': { type: 'boolean' },
    'no-untrusted': { type: 'boolean' },
  },
});

function usage(message) {
  process.stderr.write(`vscode-test: ${message}\n`);
  process.stdout.write(`${summaryLine({ passed: 0, failed: 1, skipped: 0 })}\n`);
  process.exit(2);
}

const env = {};
for (const kv of values.env ?? []) {
  const i = kv.indexOf('=');
  if (i <= 0) usage(`--env takes K=V, not "${kv}"`);
  env[kv.slice(0, i)] = kv.slice(i + 1);
}
const grep = values.grep ?? process.env.IPXE_FARM_VSCODE_GREP;
if (grep) env.IPXE_FARM_VSCODE_GREP = grep;
const runner = values.runner ?? process.env.IPXE_FARM_VSCODE_RUNNER ?? 'auto';
if (!['auto', 'code-server', 'electron'].includes(runner)) usage(`--runner is auto, code-server or electron, not "${runner}"`);
const timeoutS = Number(values.timeout ?? process.env.IPXE_FARM_VSCODE_TIMEOUT ?? 900);
if (!(timeoutS > 0)) usage(`--timeout takes seconds, not "${values.timeout ?? process.env.IPXE_FARM_VSCODE_TIMEOUT}"`);
const screenshots = values.screenshots ?? process.env.IPXE_FARM_VSCODE_SCREENSHOTS;
const workspace = values.workspace ?? process.env.IPXE_FARM_VSCODE_WORKSPACE;
const entry = values.entry ?? process.env.IPXE_FARM_VSCODE_TESTS;

const started = Date.now();
let testsEntry;
try {
  if (!values['no-build']) buildExtension();
  testsEntry = entry ? await bundleEntry(entry) : await bundleSuite();
  if (!existsSync(testsEntry)) throw new Error(`the tests entry ${testsEntry} does not exist`);
} catch (err) {
  removeBundles();
  process.stderr.write(`vscode-test: ${err.message}\n`);
  process.stdout.write(`${summaryLine({ passed: 0, failed: 1, skipped: 0 })}\n`);
  process.exit(1);
}

const say = (l) => process.stdout.write(`${l}\n`);
const secs = (ms) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** Turns one run into counts, charging a run that broke or did not report as one failure, and explains it. */
function tally(result, what) {
  const t = result.timings ?? {};
  process.stderr.write(`[vscode-test] ${what} (${result.runner}): setup ${secs(t.setupMs)}${t.installMs !== undefined ? `, install ${secs(t.installMs)}` : ''}, start ${secs(t.startMs)}, suite ${secs(t.runMs)}${t.toFirstLineMs !== undefined ? ` (workbench to first line ${secs(t.toFirstLineMs)}, tests ${secs(t.testsMs)}, exit ${secs(t.exitMs)})` : ''}\n`);
  let counts = result.counts ?? { passed: 0, failed: 0, skipped: 0 };
  if (result.problem) {
    say(`# ${what}: the VS Code run failed: ${result.problem}`);
    counts = { ...counts, failed: counts.failed + 1 };
  } else if (!result.counts) {
    say(`# ${what}: the suite printed no @@vscode-result line (exit code ${result.exitCode}): counted as 1 failed`);
    counts = { ...counts, failed: counts.failed + 1 };
  } else if (result.exitCode !== 0 && counts.failed === 0) {
    say(`# ${what}: VS Code exited ${result.exitCode} although no test failed: counted as 1 failed`);
    counts = { ...counts, failed: 1 };
  }
  if (counts.failed > 0 && result.workbenchErrors?.length) {
    // The extension host's own errors (a test file that does not load, a crash in activate()) arrive unmarked.
    const shown = result.workbenchErrors.map((e) => e.text.split('\n').slice(0, 12).join('\n'));
    process.stderr.write(`[vscode-test] last errors VS Code logged:\n${shown.join('\n')}\n`);
  }
  return counts;
}

const total = { passed: 0, failed: 0, skipped: 0 };
const add = (c) => { total.passed += c.passed; total.failed += c.failed; total.skipped += c.skipped; };

add(tally(await runVsCodeTests({
  testsEntry,
  env,
  workspace: workspace && path.resolve(workspace),
  screenshotDir: screenshots && path.resolve(screenshots),
  runner,
  timeoutMs: timeoutS * 1000,
  onLine: say,
}), entry ? path.basename(entry) : 'extension suite'));

// A second code-server with workspace trust ON and a farm folder left untrusted (test/vscode/untrusted/).
const untrustedOff = values['no-untrusted'] || process.env.IPXE_FARM_VSCODE_UNTRUSTED === '0';
if (!entry && !grep && !untrustedOff) {
  say('\n# an untrusted workspace: workspace trust on, the farm folder not trusted');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-untrusted-'));
  try {
    const farm = prepareUntrustedFarm(dir);
    add(tally(await runVsCodeTests({ testsEntry: await bundleSuiteDir('untrusted'), workspace: farm.workspace, env: { ...env, ...farm.env }, workspaceTrust: true, timeoutMs: timeoutS * 1000, onLine: say }), 'untrusted workspace'));
  } catch (err) {
    say(`# the untrusted-workspace run: ${err.message}`);
    add({ passed: 0, failed: 1, skipped: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const vsixOff = values['no-vsix'] || process.env.IPXE_FARM_VSCODE_VSIX === '0';
if (!entry && !grep && !vsixOff) {
  say('\n# the packaged extension: vsce package, --install-extension, then the installed copy in VS Code');
  try {
    const { name, version } = manifest();
    const t0 = Date.now();
    const packaged = packageVsix(path.join(runBundleDir(), `${name}-${version}.vsix`));
    say(`# ${name}-${version}.vsix: ${describeSize(packaged.bytes)}, ${packaged.files} files (vsce ${secs(Date.now() - t0)})`);
    add(tally(await verifyVsix(packaged.file, { onLine: say, timeoutMs: timeoutS * 1000 }), 'packaged .vsix'));
  } catch (err) {
    say(`# the packaged extension: ${err.message}`);
    add({ passed: 0, failed: 1, skipped: 0 });
  }
}

removeBundles();
process.stderr.write(`[vscode-test] total ${secs(Date.now() - started)}\n`);
say(summaryLine(total));
process.exit(total.failed > 0 ? 1 : 0);
