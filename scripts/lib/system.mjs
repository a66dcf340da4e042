// Installs what the tests and the demo need on a Debian/Ubuntu machine: npm packages, then apt packages (as root),
// so `npm test` and `npm run demo` work on a fresh clone. Without root it names what is missing and how to get it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function aptPackages() {
  return readFileSync(path.join(repo, 'scripts', 'apt-packages.txt'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

export function ensureNodeModules() {
  const stamp = path.join(repo, 'node_modules', '.package-lock.json');
  if (existsSync(stamp)) return;
  console.error('[setup] npm ci');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: repo, stdio: 'inherit' });
}

/** Returns the packages still missing (empty when all are there). */
export function ensureAptPackages(pkgs = aptPackages()) {
  if (!existsSync('/usr/bin/dpkg-query')) {
    console.error('[setup] not a Debian/Ubuntu machine: install the equivalents of ' + pkgs.join(' '));
    return pkgs;
  }
  let missing = pkgs.filter((p) => !installed(p));
  if (missing.length === 0) return [];
  if (process.getuid?.() === 0) {
    console.error(`[setup] apt-get install ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    const r = spawnSync('apt-get', ['install', '-y', '-q', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0) console.error(`[setup] apt-get install failed (exit ${r.status}); the tests that need these will skip and say why.`);
    missing = missing.filter((p) => !installed(p));
  } else {
    console.error(`[setup] missing packages: ${missing.join(' ')}\n[setup] install them with: sudo apt-get install -y ${missing.join(' ')}`);
  }
  return missing;
}
