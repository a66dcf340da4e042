// Builds what VS Code loads: the extension bundle (package.json's `build` script) and the extension-test bundles
// (test/vscode/index.ts plus every suite/**/*.test.ts, `vscode` and `mocha` left to the extension host's require).
// Test bundles go to a folder of this run's own, out/vscode-test/run-<pid>/, removed afterwards: other engineers'
// runs wipe out/test/ (scripts/test.mjs) and other harness runs rebuild theirs while VS Code is still loading ours.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { repo } from './system.mjs';

export function buildExtension() {
  // Its output goes to stderr: stdout carries only the suite's report.
  const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: repo, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status}): the extension bundle out/extension.js could not be built`);
}

function tsFiles(dir, suffix) {
  let entries = [];
  try { entries = readdirSync(dir); } catch { return []; }
  return entries.flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? tsFiles(p, suffix) : p.endsWith(suffix) ? [p] : [];
  });
}

async function bundle(entryPoints, outdir, outbase) {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints,
    outdir,
    outbase,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // A package's ES module build first: jsonc-parser's UMD build hides its requires from the bundler.
    mainFields: ['module', 'main'],
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
}

const bundlesRoot = path.join(repo, 'out', 'vscode-test');

export function runBundleDir(pid = process.pid) {
  return path.join(bundlesRoot, `run-${pid}`);
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (err) { return err.code === 'EPERM'; }
}

/** Removes this run's bundles, and those of runs that died without cleaning up. */
export function removeBundles() {
  rmSync(runBundleDir(), { recursive: true, force: true });
  let entries = [];
  try { entries = readdirSync(bundlesRoot); } catch { return; }
  for (const e of entries) {
    const pid = Number(/^run-(\d+)$/.exec(e)?.[1]);
    if (pid && !alive(pid)) rmSync(path.join(bundlesRoot, e), { recursive: true, force: true });
  }
}

/** Bundles test/vscode (index.ts and every *.test.ts under suite/) into this run's folder; returns the compiled run() entry. */
export async function bundleSuite() {
  const src = path.join(repo, 'test', 'vscode');
  const outdir = runBundleDir();
  rmSync(outdir, { recursive: true, force: true });
  await bundle([path.join(src, 'index.ts'), ...tsFiles(path.join(src, 'suite'), '.test.ts')], outdir, src);
  return path.join(outdir, 'index.js');
}

/** Bundles test/vscode/vsix (the checks of the installed .vsix) into this run's folder; returns its run() entry. */
export async function bundleVsixSuite() {
  return bundleSuiteDir('vsix');
}

/** test/vscode/<name>/: its index.ts and *.test.ts files, a tests entry of its own (vsix, untrusted). */
export async function bundleSuiteDir(name) {
  const src = path.join(repo, 'test', 'vscode', name);
  const outdir = path.join(runBundleDir(), name);
  rmSync(outdir, { recursive: true, force: true });
  await bundle([path.join(src, 'index.ts'), ...tsFiles(src, '.test.ts')], outdir, src);
  return path.join(outdir, 'index.js');
}

/**
 * Bundles another tests entry (a .ts file in the repository exporting run(), e.g. a benchmark under bench/vscode/)
 * into this run's folder, mirroring its path in the repository; returns the compiled file. A .js path is used as is.
 */
export async function bundleEntry(entry) {
  const abs = path.resolve(entry);
  if (!abs.endsWith('.ts')) return abs;
  const rel = path.relative(repo, abs);
  if (rel.startsWith('..')) throw new Error(`${abs} is outside the repository: a .ts tests entry must live in ${repo}`);
  const outdir = path.join(runBundleDir(), 'entries');
  await bundle([abs], outdir, repo);
  return path.join(outdir, rel).replace(/\.ts$/, '.js');
}
