#!/usr/bin/env node
// `npm test`: everything, in one command, on a fresh clone. Installs what it needs, builds, type-checks, runs the
// unit and integration suites with Node's test runner, then the extension's suite inside a real VS Code, and ends with
// one line that counts all tests: `N passed, N failed, N skipped`.
//   --only unit|integration|vscode   run one part      --files SUBSTRING   only test files whose path contains it
import { spawnSync, spawn } from 'node:child_process';
import { readdirSync, statSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { ensureAptPackages, ensureNodeModules, repo } from './lib/system.mjs';

const { values } = parseArgs({ options: { only: { type: 'string' }, files: { type: 'string' } } });
const parts = values.only ? [values.only] : ['typecheck', 'unit', 'integration', 'vscode'];
const started = Date.now();
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

function listTests(dir) {
  const out = [];
  const walk = (d) => {
    let entries = [];
    try { entries = readdirSync(d); } catch { return; }
    for (const e of entries) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.test.ts') && (!values.files || p.includes(values.files))) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

async function bundleTests(name, files) {
  const esbuild = await import('esbuild');
  const outdir = path.join(repo, 'out', 'test');
  rmSync(path.join(outdir, name), { recursive: true, force: true });
  await esbuild.build({
    entryPoints: files,
    outdir,
    outbase: path.join(repo, 'test'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // A package's ES module build first: jsonc-parser's UMD build hides its requires from the bundler.
    mainFields: ['module', 'main'],
    sourcemap: 'inline',
    external: ['vscode', 'playwright-core', 'esbuild'],
    logLevel: 'warning',
  });
  return files.map((f) => path.join(outdir, path.relative(path.join(repo, 'test'), f)).replace(/\.ts$/, '.js'));
}

async function nodeSuite(name, concurrency) {
  const files = listTests(path.join(repo, 'test', name));
  if (files.length === 0) { console.log(`# ${name}: no test files`); return; }
  console.log(`\n# ${name}: ${files.length} file(s)`);
  const built = await bundleTests(name, files);
  const stream = run({ files: built, concurrency, timeout: 30 * 60_000 });
  stream.on('test:pass', (d) => {
    if (d.details?.type === 'suite' || d.nesting === undefined) return;
    if (d.skip || d.todo) totals.skipped++;
    else totals.passed++;
  });
  stream.on('test:fail', (d) => {
    if (d.details?.type === 'suite') return;
    totals.failed++;
    failures.push(`${name}: ${d.name} (${path.relative(repo, d.file ?? '')})`);
  });
  await new Promise((resolve, reject) => {
    const out = stream.compose(spec);
    out.pipe(process.stdout, { end: false });
    out.on('end', resolve);
    out.on('error', reject);
  });
}

function typecheck() {
  console.log('\n# typecheck: tsc --noEmit');
  const r = spawnSync(process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', repo, '--noEmit'], { stdio: 'inherit' });
  if (r.status === 0) { totals.passed++; console.log('✔ typecheck'); }
  else { totals.failed++; failures.push('typecheck: tsc --noEmit reported errors'); }
}

async function vscodeSuite() {
  const harness = path.join(repo, 'scripts', 'vscode-test.mjs');
  try { statSync(harness); } catch { console.log('# vscode: harness not present'); return; }
  console.log('\n# vscode: the extension suite inside a real VS Code');
  const child = spawn(process.execPath, [harness, '--no-build'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { process.stdout.write(d); last = (last + d).split('\n').slice(-20).join('\n'); });
  const code = await new Promise((resolve) => child.on('close', resolve));
  const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/m.exec(last.trim().split('\n').reverse().find((l) => /passed, \d+ failed/.test(l)) ?? '');
  if (m) {
    totals.passed += Number(m[1]);
    totals.failed += Number(m[2]);
    totals.skipped += Number(m[3] ?? 0);
    if (Number(m[2]) > 0) failures.push(`vscode: ${m[2]} test(s) failed inside VS Code`);
  }
  if (code !== 0 && (!m || Number(m[2]) === 0)) { totals.failed++; failures.push(`vscode: the harness exited ${code} (see its output above)`); }
}

ensureNodeModules();
ensureAptPackages();
const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: repo, stdio: 'inherit' });
if (build.status !== 0) { console.log('build failed'); console.log('0 passed, 1 failed'); process.exit(1); }

for (const part of parts) {
  if (part === 'typecheck') typecheck();
  else if (part === 'unit') await nodeSuite('unit', os.availableParallelism());
  else if (part === 'integration') await nodeSuite('integration', 1);
  else if (part === 'vscode') await vscodeSuite();
  else { console.error(`unknown part ${part}: use unit, integration, vscode or typecheck`); process.exit(2); }
}

console.log(`\n# took ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (failures.length) console.log(`# failed:\n${failures.map((f) => `#   ${f}`).join('\n')}`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
