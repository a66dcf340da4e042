// One run of an extension-tests entry inside code-server's workbench, driven by headless chromium: the same
// `run()` contract @vscode/test-electron uses, with the extension host's console arriving through the smoke-test
// driver's `codeAutomationLog` and the end through `codeAutomationExit`.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import { startBrowser, stopBrowser } from './vscode-browser.mjs';
import { codeServerCli, startCodeServer, stopCodeServer } from './vscode-codeserver.mjs';
import { ensureCodeServer } from './vscode-install.mjs';
import { pageAction } from './vscode-page.mjs';

function remoteUri(port, absPath) {
  return `vscode-remote://127.0.0.1:${port}${absPath.split(path.sep).map(encodeURIComponent).join('/')}`;
}

/** A codeAutomationLog call carries console-style arguments (`"  ✔ %s (%dms)", title, 12`): render them as Node would. */
function renderArgs(args) {
  return format(...(Array.isArray(args) ? args : [args]));
}

/** `code-server --install-extension` into the sandbox's extensions folder, then `--list-extensions` must show it. */
function installVsix(cs, o) {
  const r = codeServerCli(cs, o.sandbox, ['--install-extension', o.installVsix]);
  if (r.status !== 0) throw new Error(`code-server --install-extension ${o.installVsix} failed (exit ${r.status ?? r.error?.message}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
  const list = codeServerCli(cs, o.sandbox, ['--list-extensions', '--show-versions']);
  const listed = list.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[\w.-]+\.[\w.-]+@/.test(l));
  o.router.emit(`# code-server --install-extension ${path.basename(o.installVsix)}: --list-extensions shows ${listed.join(', ') || 'nothing'}`);
  if (o.expectExtension && !listed.some((l) => l.toLowerCase().startsWith(`${o.expectExtension.toLowerCase()}@`))) {
    throw new Error(`after --install-extension, code-server --list-extensions does not show ${o.expectExtension} (it shows: ${listed.join(', ') || 'nothing'})`);
  }
}

/**
 * @param {object} o
 * @param {string} o.extensionPath  folder with the extension's package.json
 * @param {string} o.testsEntry     compiled JS file exporting run()
 * @param {Record<string,string>} o.env  extension host environment additions
 * @param {string} o.workspace      folder the window opens
 * @param {ReturnType<import('./vscode-sandbox.mjs').makeSandbox>} o.sandbox
 * @param {import('./vscode-lines.mjs').LineRouter} o.router  receives the output; takes screenshots through the page
 * @param {string} [o.screenshotDir]
 * @param {number} o.timeoutMs      whole run
 * @param {number} o.quietMs        longest wait for the first line from the extension host
 */
export async function runInCodeServer(o) {
  const timings = {};
  let t = Date.now();
  const cs = await ensureCodeServer();
  timings.setupMs = Date.now() - t;
  if (o.installVsix) {
    t = Date.now();
    installVsix(cs, o);
    timings.installMs = Date.now() - t;
  }

  let server;
  let browser;
  const screenshots = [];
  try {
    t = Date.now();
    // Started side by side; if one fails, the other must still be stopped (finally sees whatever was assigned).
    const [s, b] = await Promise.allSettled([startCodeServer(cs, o.sandbox), startBrowser(o.sandbox)]);
    if (s.status === 'fulfilled') server = s.value;
    if (b.status === 'fulfilled') browser = b.value;
    if (s.status === 'rejected') throw s.reason;
    if (b.status === 'rejected') throw b.reason;
    timings.startMs = Date.now() - t;
    t = Date.now();

    const context = browser.browser.contexts()[0] ?? (await browser.browser.newContext());
    const page = await context.newPage();
    await page.setViewportSize(browser.viewport);

    let exitCode;
    let resolveEnd;
    const ended = new Promise((r) => { resolveEnd = r; });
    const router = o.router;
    router.onScreenshot = async (name) => {
      const dir = name.startsWith('failed-') ? o.failureDir : o.screenshotDir;
      if (!dir) { router.emit(`# screenshot "${name}" not taken: no screenshot directory (set IPXE_FARM_VSCODE_SCREENSHOTS or --screenshots)`); return; }
      const file = path.join(dir, `${name}.png`);
      mkdirSync(dir, { recursive: true });
      // Written under a temporary name, then renamed: the suite waits for the final name to appear.
      const tmp = `${file}.tmp-${process.pid}.png`;
      await page.screenshot({ path: tmp });
      renameSync(tmp, file);
      screenshots.push(file);
      if (dir === o.screenshotDir) router.emit(`# screenshot ${file}`);
    };
    router.onDom = async (name, selector) => {
      let answer;
      try {
        answer = { texts: await page.$$eval(selector, (els) => els.map((e) => (e instanceof HTMLElement ? e.innerText : e.textContent ?? ''))) };
      } catch (err) {
        answer = { error: err.message.split('\n')[0] };
      }
      const file = path.join(o.sandbox.dirs.exchange, `${name}.json`);
      writeFileSync(`${file}.tmp`, JSON.stringify(answer));
      renameSync(`${file}.tmp`, file);
    };
    router.onPage = async (name, json) => {
      let answer;
      try {
        answer = await pageAction(page, JSON.parse(json));
      } catch (err) {
        answer = { error: err.message.split('\n')[0] };
      }
      const file = path.join(o.sandbox.dirs.exchange, `${name}.json`);
      writeFileSync(`${file}.tmp`, JSON.stringify(answer));
      renameSync(`${file}.tmp`, file);
    };
    await page.exposeFunction('codeAutomationLog', (type, args) => { router.push(renderArgs(args), type); });
    await page.exposeFunction('codeAutomationExit', (code) => { exitCode = Number(code); resolveEnd('exit'); });
    page.on('crash', () => resolveEnd('crash'));

    const payload = [
      ['extensionDevelopmentPath', remoteUri(server.port, o.extensionPath)],
      ['extensionTestsPath', remoteUri(server.port, o.testsEntry)],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
    ];
    if (o.env && Object.keys(o.env).length) payload.push(['extensionEnvironment', JSON.stringify(o.env)]);
    const url = `http://127.0.0.1:${server.port}/?folder=${encodeURIComponent(o.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });

    let timer;
    const quiet = setInterval(() => { if (!router.sawSuite && Date.now() - t > o.quietMs) resolveEnd('quiet'); }, 1000);
    const outcome = await Promise.race([ended, new Promise((r) => { timer = setTimeout(() => r('timeout'), o.timeoutMs); })]);
    clearTimeout(timer);
    clearInterval(quiet);
    await router.drain();
    timings.runMs = Date.now() - t;
    // Where the run's time goes: workbench + extension host start-up, the tests, and shutting the host down.
    if (router.firstAt) timings.toFirstLineMs = router.firstAt - t;
    if (router.firstAt && router.resultAt) timings.testsMs = router.resultAt - router.firstAt;
    if (router.resultAt) timings.exitMs = Date.now() - router.resultAt;

    if (outcome === 'quiet') {
      return { exitCode: undefined, timings, screenshots, problem: `the extension host printed nothing within ${o.quietMs / 1000} s: the workbench never ran the tests (wrong extensionTestsPath URI, or the smoke-test driver is off), or the entry did not call markConsole(); logs: ${o.sandbox.dirs.logs}` };
    }
    if (outcome === 'timeout') return { exitCode: undefined, timings, screenshots, problem: `the suite did not finish within ${o.timeoutMs / 1000} s (IPXE_FARM_VSCODE_TIMEOUT raises the limit)` };
    if (outcome === 'crash') return { exitCode: undefined, timings, screenshots, problem: 'the workbench page crashed' };
    return { exitCode, timings, screenshots };
  } finally {
    await Promise.all([stopBrowser(browser), server ? stopCodeServer(server.group) : undefined]);
  }
}
