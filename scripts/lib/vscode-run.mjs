// One run of a compiled extension-tests entry inside a real VS Code, whichever kind this machine can run: desktop
// VS Code via @vscode/test-electron where it can be downloaded, else code-server + headless chromium. Everything it
// starts lives in a sandbox (temp HOME/XDG/TMPDIR) and is ended before it returns, on every path.
import { removeBundles } from './vscode-build.mjs';
import { killAllGroupsNow } from './vscode-processes.mjs';
import { probeElectron, runInElectron } from './vscode-electron.mjs';
import { LineRouter } from './vscode-lines.mjs';
import { makeSandbox } from './vscode-sandbox.mjs';
import { runInCodeServer } from './vscode-web-run.mjs';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repo } from './system.mjs';

async function chooseRunner(wanted) {
  if (wanted === 'code-server') return { runner: 'code-server', reason: 'asked for' };
  const probe = await probeElectron();
  if (wanted === 'electron') {
    if (!probe.ok) throw new Error(`desktop VS Code was asked for but ${probe.reason}`);
    return { runner: 'electron', reason: probe.reason };
  }
  return probe.ok ? { runner: 'electron', reason: probe.reason } : { runner: 'code-server', reason: probe.reason };
}

/**
 * VS Code runs extension tests only with a development extension; when the extension under test is the installed
 * .vsix, an empty one stands in (were it this repository, it would shadow the installed copy).
 */
function stubExtension(sandbox) {
  const dir = path.join(sandbox.dirs.root, 'stub-extension');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'vsix-test-stub', publisher: 'ipxe-farm-test', version: '0.0.0', engines: { vscode: '^1.95.0' },
  }));
  return dir;
}

/**
 * @param {object} o
 * @param {string} o.testsEntry            compiled .js exporting run() (see bundleSuite/bundleEntry in vscode-build.mjs)
 * @param {Record<string,string>} [o.env]  added to the extension host's environment
 * @param {string} [o.workspace]           folder to open (default: a fresh empty temp folder)
 * @param {string} [o.screenshotDir]       where `@@screenshot NAME` lines put NAME.png (code-server only)
 * @param {'auto'|'code-server'|'electron'} [o.runner]
 * @param {number} [o.timeoutMs]           whole run (default 900 s)
 * @param {number} [o.quietMs]             longest wait for the first line of the suite (default 120 s)
 * @param {(line: string) => void} [o.onLine]  each output line of the suite, as it arrives
 * @param {(line: string) => void} [o.onNote]  harness notes (default: stderr)
 * @param {string} [o.extensionPath]       the development extension (default: this repository)
 * @param {string} [o.installVsix]         install this .vsix first (code-server --install-extension) and load it as an
 *                                         installed extension; the development extension is then a stub, and the
 *                                         extension host gets IPXE_FARM_EXTENSIONS_DIR
 * @param {string} [o.expectExtension]     with installVsix: the id --list-extensions must show afterwards
 * @param {boolean} [o.workspaceTrust]     workspace trust on and the folder untrusted (default: trust disabled);
 *                                         code-server runner only
 * @returns {Promise<{runner: string, exitCode?: number, counts?: {passed:number, failed:number, skipped:number},
 *   lines: string[], problem?: string, timings: Record<string, number>, screenshots: string[]}>}
 */
export async function runVsCodeTests(o) {
  const note = o.onNote ?? ((l) => process.stderr.write(`[vscode-test] ${l}\n`));
  const onLine = o.onLine ?? (() => {});
  const sandbox = makeSandbox(undefined, { workspaceTrust: Boolean(o.workspaceTrust) });
  const abort = () => { killAllGroupsNow(); sandbox.remove(); removeBundles(); process.exit(130); };
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  let result;
  let chosen = 'none';
  try {
    // Desktop VS Code runs with --disable-workspace-trust (vscode-electron.mjs): an untrusted run needs code-server.
    const { runner, reason } = await chooseRunner(o.workspaceTrust ? 'code-server' : o.runner ?? process.env.IPXE_FARM_VSCODE_RUNNER ?? 'auto');
    note(`runner: ${runner} (${reason})`);
    chosen = runner;
    const env = { IPXE_FARM_REPO: repo, ...(o.env ?? {}) };
    let extensionPath = o.extensionPath ?? repo;
    if (o.installVsix) {
      extensionPath = o.extensionPath ?? stubExtension(sandbox);
      env.IPXE_FARM_EXTENSIONS_DIR = sandbox.dirs.extensions;
    }
    if (o.screenshotDir && runner === 'code-server') env.IPXE_FARM_SCREENSHOT_DIR = o.screenshotDir;
    const failureDir = o.screenshotDir ?? path.join(repo, 'out', 'vscode-test', 'failures');
    if (runner === 'code-server') env.IPXE_FARM_FAILURE_SCREENSHOT_DIR = failureDir;
    // Where the harness answers the suite's questions about the screen (@@dom): code-server only.
    if (runner === 'code-server') env.IPXE_FARM_HARNESS_DIR = sandbox.dirs.exchange;
    const router = new LineRouter({ onLine, workbenchLog: path.join(sandbox.dirs.logs, 'workbench.log'), onScreenshot: async (name) => router.emit(`# screenshot "${name}" not taken: only the code-server runner takes screenshots`) });
    const common = {
      extensionPath,
      installVsix: o.installVsix,
      expectExtension: o.expectExtension,
      testsEntry: o.testsEntry,
      env,
      workspace: o.workspace ?? sandbox.dirs.workspace,
      sandbox,
      timeoutMs: o.timeoutMs ?? 900_000,
      quietMs: o.quietMs ?? 120_000,
      screenshotDir: o.screenshotDir,
      failureDir,
    };
    const run = runner === 'electron' ? await runInElectron({ ...common, router }) : await runInCodeServer({ ...common, router });
    result = { runner, lines: router.lines, workbenchErrors: router.workbenchErrors(), counts: router.result, ...run };
    return result;
  } catch (err) {
    result = { runner: chosen, lines: [], workbenchErrors: [], problem: err.message, timings: {}, screenshots: [] };
    return result;
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
    if (result?.problem && readdirSync(sandbox.dirs.logs).length > 0) {
      note(`logs of this run (code-server, chromium, workbench): ${sandbox.dirs.logs}`);
    } else {
      sandbox.remove();
    }
  }
}
