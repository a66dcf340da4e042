// A throw-away home for one VS Code run: HOME, XDG_* and TMPDIR point into one temp dir, so neither code-server nor
// chromium reads or writes the developer's own settings, extensions or caches, and parallel runs cannot meet.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `workspaceTrust`: VS Code's workspace trust on, with the opened folder left untrusted (no start-up prompt). */
export function makeSandbox(prefix = 'ipxe-farm-vscode-', { workspaceTrust = false } = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  const dir = (name) => {
    const p = path.join(root, name);
    mkdirSync(p, { recursive: true, mode: 0o700 });
    return p;
  };
  const dirs = {
    root,
    home: dir('home'),
    config: dir('xdg/config'),
    data: dir('xdg/data'),
    cache: dir('xdg/cache'),
    state: dir('xdg/state'),
    runtime: dir('xdg/runtime'),
    tmp: dir('tmp'),
    userData: dir('code/user-data'),
    extensions: dir('code/extensions'),
    browserProfile: dir('browser-profile'),
    logs: dir('logs'),
    exchange: dir('exchange'),
    workspace: dir('workspace'),
  };
  // A quiet workbench: no chat panel, tips or update checks crowding the screenshots or the logs.
  mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'telemetry.telemetryLevel': 'off',
    'security.workspace.trust.enabled': workspaceTrust,
    // No modal asking whether to trust the folder: it stays untrusted, as when a user picks "Don't Trust".
    'security.workspace.trust.startupPrompt': 'never',
  }, null, 2));
  const env = {
    ...process.env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    XDG_STATE_HOME: dirs.state,
    XDG_RUNTIME_DIR: dirs.runtime,
    TMPDIR: dirs.tmp,
  };
  // A password or session from the outer environment must not leak into (or lock) the test server.
  for (const k of ['PASSWORD', 'HASHED_PASSWORD', 'VSCODE_PROXY_URI', 'CODE_SERVER_CONFIG', 'ELECTRON_RUN_AS_NODE', 'VSCODE_IPC_HOOK_CLI']) delete env[k];
  const remove = () => {
    if (process.env.IPXE_FARM_KEEP_SANDBOX) { process.stderr.write(`[vscode-test] sandbox kept: ${root}\n`); return; }
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
  return { dirs, env, remove, workspaceTrust };
}
