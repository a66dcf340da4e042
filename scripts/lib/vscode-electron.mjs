// Desktop VS Code through @vscode/test-electron, where it can be downloaded (or was, into the cache). It needs a
// display: $DISPLAY, or xvfb-run to make one. Same entry, same run() contract, same line protocol as code-server;
// screenshots are code-server only (the suite's screenshot() returns undefined here).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { cacheDir } from './vscode-install.mjs';
import { adopt, stopGroup } from './vscode-processes.mjs';

export function electronCache() {
  return path.join(cacheDir(), 'electron');
}

function xvfbRun() {
  const r = spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Decides quickly (a few seconds at most) whether desktop VS Code can run here; says why not when it cannot. */
export async function probeElectron(timeoutMs = 3000) {
  if (!process.env.DISPLAY && !xvfbRun()) return { ok: false, reason: 'no $DISPLAY and no xvfb-run for desktop VS Code' };
  let cached = [];
  try { cached = readdirSync(electronCache()).filter((d) => d.startsWith('vscode-')); } catch { /* none yet */ }
  if (cached.length > 0) return { ok: true, reason: `VS Code already downloaded in ${electronCache()}` };
  try {
    const res = await fetch('https://update.code.visualstudio.com/api/releases/stable', { signal: AbortSignal.timeout(timeoutMs) });
    if (res.ok) return { ok: true, reason: 'update.code.visualstudio.com answers' };
    return { ok: false, reason: `update.code.visualstudio.com answered HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, reason: `VS Code cannot be downloaded here (${err.cause?.code ?? err.name})` };
  }
}

/** Runs the tests entry in desktop VS Code; same options and result shape as runInCodeServer(). */
export async function runInElectron(o) {
  const timings = {};
  let t = Date.now();
  const { downloadAndUnzipVSCode, resolveCliPathFromVSCodeExecutablePath, SilentReporter } = await import('@vscode/test-electron');
  const version = process.env.IPXE_FARM_VSCODE_VERSION || 'stable';
  process.stderr.write(`[vscode-test] desktop VS Code ${version} (download cached in ${electronCache()})\n`);
  const exe = await downloadAndUnzipVSCode({ version, cachePath: electronCache(), reporter: new SilentReporter(), timeout: 30_000 });
  if (!existsSync(exe)) throw new Error(`@vscode/test-electron returned ${exe}, which does not exist`);
  timings.setupMs = Date.now() - t;
  if (o.installVsix) {
    const cli = resolveCliPathFromVSCodeExecutablePath(exe);
    const profile = [`--extensions-dir=${o.sandbox.dirs.extensions}`, `--user-data-dir=${o.sandbox.dirs.userData}`];
    const r = spawnSync(cli, [...profile, '--install-extension', o.installVsix], { env: o.sandbox.env, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`code --install-extension ${o.installVsix} failed (exit ${r.status}): ${(r.stderr || r.stdout || '').trim()}`);
    const list = spawnSync(cli, [...profile, '--list-extensions', '--show-versions'], { env: o.sandbox.env, encoding: 'utf8', timeout: 60_000 });
    const listed = (list.stdout ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
    o.router.emit(`# code --install-extension ${path.basename(o.installVsix)}: --list-extensions shows ${listed.join(', ') || 'nothing'}`);
    if (o.expectExtension && !listed.some((l) => l.toLowerCase().startsWith(`${o.expectExtension.toLowerCase()}@`))) {
      throw new Error(`after --install-extension, --list-extensions does not show ${o.expectExtension}`);
    }
  }

  const args = [
    o.workspace,
    '--no-sandbox',
    '--disable-gpu-sandbox',
    '--disable-updates',
    '--skip-welcome',
    '--skip-release-notes',
    '--disable-workspace-trust',
    // Other installed extensions off, except when the installed .vsix is what is under test.
    ...(o.installVsix ? [] : ['--disable-extensions']),
    `--extensionDevelopmentPath=${o.extensionPath}`,
    `--extensionTestsPath=${o.testsEntry}`,
    `--user-data-dir=${o.sandbox.dirs.userData}`,
    `--extensions-dir=${o.sandbox.dirs.extensions}`,
  ];
  const [cmd, argv] = process.env.DISPLAY ? [exe, args] : [xvfbRun(), ['-a', exe, ...args]];
  t = Date.now();
  // The sandbox moves HOME; the X server's cookie stays where the real HOME put it.
  const xauth = process.env.XAUTHORITY ?? path.join(os.homedir(), '.Xauthority');
  const env = { ...o.sandbox.env, ...(process.env.DISPLAY ? { XAUTHORITY: xauth } : {}), ...o.env };
  const child = spawn(cmd, argv, { env, cwd: o.sandbox.dirs.workspace, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const group = adopt(child, 'VS Code');
  let buf = '';
  const onData = (d) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) o.router.push(l);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let timer;
  let quiet;
  const outcome = await Promise.race([
    new Promise((r) => child.on('close', (code) => r({ code }))),
    new Promise((r) => child.on('error', (err) => r({ error: err }))),
    new Promise((r) => { timer = setTimeout(() => r({ timeout: true }), o.timeoutMs); }),
    new Promise((r) => { quiet = setInterval(() => { if (!o.router.sawSuite && Date.now() - t > o.quietMs) r({ quiet: true }); }, 1000); }),
  ]);
  clearTimeout(timer);
  clearInterval(quiet);
  if (buf) o.router.push(buf);
  await stopGroup(group, 1000);
  await o.router.drain();
  timings.runMs = Date.now() - t;
  if (outcome.quiet) return { exitCode: undefined, timings, screenshots: [], problem: `VS Code printed nothing of the suite within ${o.quietMs / 1000} s` };
  if (outcome.timeout) return { exitCode: undefined, timings, screenshots: [], problem: `the suite did not finish within ${o.timeoutMs / 1000} s` };
  if (outcome.error) return { exitCode: undefined, timings, screenshots: [], problem: `VS Code could not start: ${outcome.error.message}` };
  return { exitCode: outcome.code, timings, screenshots: [] };
}
