#!/usr/bin/env node
// Runs a tests entry of your own inside the same real VS Code as the extension suite (code-server + headless
// chromium here, desktop VS Code where it can be downloaded), for benchmarks and README screenshots.
//
// The entry is a .ts file in this repository exporting `run(): Promise<void>`, executed in the extension host with the
// extension under development loaded. In it:
//   import { markConsole, reportResult } from '../../test/vscode/host-console';
//   import { screenshot } from '../../test/vscode/screenshot';
//   import { waitForDomText } from '../../test/vscode/dom';
//   export async function run() {
//     markConsole();                                   // first: only marked lines reach the harness
//     const t0 = performance.now();
//     await vscode.extensions.getExtension('ipxe-farm.ipxe-farm')!.activate();
//     console.log(`metric activation_ms=${(performance.now() - t0).toFixed(1)} ms`);
//     await screenshot('trees');                      // saved as <screenshotDir>/trees.png (waits until written)
//     // what the user sees, e.g. tree rows rendered (test/vscode/dom.ts; code-server runner only):
//     const rows = await waitForDomText('.monaco-list-row', (t) => t.includes('dut1'));
//     reportResult({ passed: 1, failed: 0, skipped: 0 });   // last
//   }
//
// From a script:
//   import { runInVsCode, parseMetrics } from './bench/vscode/harness.mjs';
//   const r = await runInVsCode({ entry: 'bench/vscode/activation.ts', env: { K: 'v' }, screenshotDir: 'out/shots' });
//   r.lines (the entry's output), parseMetrics(r.lines) → { activation_ms: { value: 12.3, unit: 'ms' } },
//   r.counts, r.exitCode, r.problem (why the run broke, if it did), r.timings ({ setupMs, startMs, runMs }), r.screenshots
// From a shell:
//   node bench/vscode/harness.mjs bench/vscode/activation.ts [--env K=V]… [--workspace DIR] [--screenshots DIR]
// (the same as `node scripts/vscode-test.mjs --entry FILE …`, printing the metrics as a table at the end).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { buildExtension, bundleEntry, removeBundles } from '../../scripts/lib/vscode-build.mjs';
import { runVsCodeTests } from '../../scripts/lib/vscode-run.mjs';

/**
 * @param {object} o
 * @param {string} o.entry                  .ts file in the repository (or compiled .js) exporting run()
 * @param {Record<string,string>} [o.env]   added to the extension host's environment
 * @param {string} [o.workspace]            folder to open (default: a fresh empty temp folder)
 * @param {string} [o.screenshotDir]        where screenshot(NAME) puts NAME.png
 * @param {number} [o.timeoutMs]            whole run (default 900 s)
 * @param {boolean} [o.build]               rebuild out/extension.js first (default true)
 * @param {(line: string) => void} [o.onLine]  each output line as it arrives
 */
export async function runInVsCode(o) {
  if (o.build !== false) buildExtension();
  try {
    const testsEntry = await bundleEntry(o.entry);
    return await runVsCodeTests({
      testsEntry,
      env: o.env,
      workspace: o.workspace && path.resolve(o.workspace),
      screenshotDir: o.screenshotDir && path.resolve(o.screenshotDir),
      timeoutMs: o.timeoutMs,
      onLine: o.onLine,
    });
  } finally {
    removeBundles();
  }
}

/** `metric NAME=VALUE [UNIT]` lines → { NAME: { value, unit } } (the last one wins). */
export function parseMetrics(lines) {
  const out = {};
  for (const l of lines) {
    const m = /^\s*metric ([\w.-]+)=(-?[\d.]+(?:e-?\d+)?)\s*(\S*)/.exec(l);
    if (m) out[m[1]] = { value: Number(m[2]), unit: m[3] };
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { env: { type: 'string', multiple: true }, workspace: { type: 'string' }, screenshots: { type: 'string' } },
  });
  if (positionals.length !== 1) {
    console.error('usage: node bench/vscode/harness.mjs ENTRY.ts [--env K=V]… [--workspace DIR] [--screenshots DIR]');
    process.exit(2);
  }
  const env = Object.fromEntries((values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const r = await runInVsCode({ entry: positionals[0], env, workspace: values.workspace, screenshotDir: values.screenshots, onLine: (l) => console.log(l) });
  const metrics = parseMetrics(r.lines);
  for (const [k, v] of Object.entries(metrics)) console.log(`${k.padEnd(32)} ${String(v.value).padStart(10)} ${v.unit}`);
  if (r.problem) console.log(`# the run broke: ${r.problem}`);
  const ok = !r.problem && r.exitCode === 0 && r.counts && r.counts.failed === 0;
  console.log(`# ${r.runner}: start ${((r.timings.startMs ?? 0) / 1000).toFixed(1)} s, run ${((r.timings.runMs ?? 0) / 1000).toFixed(1)} s: ${ok ? 'ok' : 'FAILED'}`);
  process.exit(ok ? 0 : 1);
}
