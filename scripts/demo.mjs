#!/usr/bin/env node
// `npm run demo`: installs what the demo needs (npm ci; Debian packages as root, else names them), builds the CLI and
// runs `ipxe-farm demo` — the product's own command — passing any arguments on (e.g. `npm run demo -- --keep`).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureAptPackages, ensureNodeModules, repo } from './lib/system.mjs';

ensureNodeModules();
const missing = ensureAptPackages();
if (missing.length) console.error(`[demo] continuing without ${missing.join(' ')}: the stage that needs them will say so`);
const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: repo, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);
const r = spawnSync(process.execPath, [path.join(repo, 'out', 'cli.js'), 'demo', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
