// Debian's chromium, headless, started by us in its own process group (so the harness can end it and all its
// renderers for certain) and driven through Playwright over the DevTools protocol on loopback.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startGroup, stopGroup } from './vscode-processes.mjs';

export function findChromium() {
  for (const p of [process.env.IPXE_FARM_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (p && existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Resolves with a Playwright `browser` connected to a fresh headless chromium, plus its process group.
 * A chromium that dies in its first second (seen on CI: "Did not receive ping from zygote child" right after it printed
 * its DevTools address, so the connection was refused) is started once more before the run is called failed.
 */
export async function startBrowser(sandbox, opts = {}) {
  try {
    return await startBrowserOnce(sandbox, opts);
  } catch (err) {
    if (!/ECONNREFUSED|Target page, context or browser has been closed|exited/i.test(String(err?.message ?? err))) throw err;
    process.stderr.write(`[vscode-test] chromium died before Playwright could connect (${String(err?.message ?? err).split('\n')[0]}); starting it once more\n`);
    return startBrowserOnce(sandbox, opts);
  }
}

async function startBrowserOnce(sandbox, { timeoutMs = 60_000, width = 1400, height = 900 } = {}) {
  const exe = findChromium();
  if (!exe) throw new Error('chromium is not installed: run `apt-get install -y chromium` (or set IPXE_FARM_CHROMIUM to a Chrome/Chromium binary).');
  const args = [
    '--headless',
    '--no-sandbox',
    // No zygote: with --no-sandbox it only forks renderers early, and its start-up handshake is what failed on CI.
    '--no-zygote',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    `--window-size=${width},${height}`,
    `--user-data-dir=${sandbox.dirs.browserProfile}`,
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0',
    'about:blank',
  ];
  const { group, matched } = startGroup(exe, args, {
    env: sandbox.env,
    cwd: sandbox.dirs.tmp,
    logFile: path.join(sandbox.dirs.logs, 'chromium.log'),
    ready: /DevTools listening on (ws:\/\/\S+)/,
    timeoutMs,
    what: 'chromium',
  });
  try {
    const ws = (await matched)[1];
    const { chromium } = await import('playwright-core');
    const browser = await chromium.connectOverCDP(ws, { timeout: timeoutMs });
    return { browser, group, viewport: { width, height } };
  } catch (err) {
    await stopGroup(group);
    throw err;
  }
}

export async function stopBrowser(b) {
  if (!b) return;
  try { await Promise.race([b.browser.close(), new Promise((r) => setTimeout(r, 2000))]); } catch { /* the group kill follows */ }
  await stopGroup(b.group);
}
