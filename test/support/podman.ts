import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { which } from '../../src/core/process/run';

/**
 * Test-environment setup for podman (DESIGN §4), not product behaviour: this machine's sandbox needs runc and explicit
 * ulimits in a containers.conf, and images cannot be pulled, so an nginx image is built from Debian's .debs and tagged
 * docker.io/library/nginx:latest (the seed's plain `nginx` resolves to it offline). Idempotent and cached.
 */
export const TEST_NGINX_IMAGE = 'docker.io/library/nginx:latest';
const CACHE = path.join(os.tmpdir(), 'ipxe-farm-podman-cache');
const DEBS = ['nginx', 'nginx-common', 'busybox-static', 'libc6', 'libcrypt1', 'libpcre2-8-0', 'libssl3', 'zlib1g'];

function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
}

function writeContainersConf(): string {
  const file = path.join(CACHE, 'containers.conf');
  const hard = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  const n = /^\d+$/.test(hard) ? hard : '1024';
  const text = `# iPXE Farm test setup: crun cannot run in this sandbox, and setrlimit above the hard limit is refused.
[containers]
default_ulimits = ["nofile=${n}:${n}", "nproc=32768:32768"]

[engine]
runtime = "runc"
`;
  fs.mkdirSync(CACHE, { recursive: true });
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
  return file;
}

function imageExists(image: string): boolean {
  return spawnSync('podman', ['image', 'exists', image], { env: process.env }).status === 0;
}

/** Serialise the build across test files and benchmarks running at the same time. */
function withLock<T>(fn: () => T): T {
  const lock = path.join(CACHE, 'build.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try { fs.mkdirSync(lock); break; } catch {
      if (Date.now() > deadline) throw new Error(`stale lock ${lock}: remove it`);
      spawnSync('sleep', ['0.5']);
    }
  }
  try { return fn(); } finally { fs.rmSync(lock, { recursive: true, force: true }); }
}

function buildImage(image: string): void {
  const work = path.join(CACHE, 'build');
  const debs = path.join(CACHE, 'debs');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, 'rootfs'), { recursive: true });
  fs.mkdirSync(debs, { recursive: true });
  if (fs.readdirSync(debs).filter((f) => f.endsWith('.deb')).length < DEBS.length) sh('apt-get', ['download', ...DEBS], debs);
  const root = path.join(work, 'rootfs');
  for (const deb of fs.readdirSync(debs).filter((f) => f.endsWith('.deb'))) sh('dpkg-deb', ['-x', path.join(debs, deb), root]);
  for (const d of ['etc', 'tmp', 'run', 'var/log/nginx', 'var/lib/nginx', 'var/cache/nginx', 'bin', 'dev']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnginx:x:101:\n');
  // Like the official image: the logs are the container's stdout and stderr, so `podman logs` shows them.
  fs.symlinkSync('/dev/stdout', path.join(root, 'var/log/nginx/access.log'));
  fs.symlinkSync('/dev/stderr', path.join(root, 'var/log/nginx/error.log'));
  const busybox = fs.existsSync(path.join(root, 'bin/busybox')) ? '/bin/busybox' : '/usr/bin/busybox';
  for (const tool of ['sh', 'cat', 'ls', 'kill', 'sleep']) {
    const link = path.join(root, 'bin', tool);
    if (!fs.existsSync(link)) fs.symlinkSync(busybox, link);
  }
  fs.writeFileSync(path.join(work, 'Containerfile'), 'FROM scratch\nADD rootfs.tar /\nSTOPSIGNAL SIGQUIT\nCMD ["/usr/sbin/nginx", "-g", "daemon off;"]\n');
  sh('tar', ['-C', root, '-cf', path.join(work, 'rootfs.tar'), '.']);
  sh('podman', ['build', '-q', '-t', image, work]);
  fs.rmSync(work, { recursive: true, force: true });
}

let ready: { ok: true } | { ok: false; reason: string } | undefined;

/**
 * Make podman usable for tests: sets CONTAINERS_CONF for this process (the product's plain `podman` calls inherit it)
 * and builds the nginx image once. Returns the reason to skip, loudly, when podman cannot run here.
 */
export function setupPodman(): { ok: true } | { ok: false; reason: string } {
  if (ready) return ready;
  if (!which('podman')) return (ready = { ok: false, reason: 'SKIPPED: podman is not installed (apt-get install podman runc): the podman runtime was NOT tested' });
  if (!which('runc')) return (ready = { ok: false, reason: 'SKIPPED: runc is not installed (apt-get install runc): the podman runtime was NOT tested' });
  try {
    process.env.CONTAINERS_CONF = writeContainersConf();
    if (!imageExists(TEST_NGINX_IMAGE)) withLock(() => { if (!imageExists(TEST_NGINX_IMAGE)) buildImage(TEST_NGINX_IMAGE); });
    const probe = spawnSync('podman', ['run', '--rm', '--network', 'none', TEST_NGINX_IMAGE, '/usr/sbin/nginx', '-v'], { encoding: 'utf8', env: process.env, timeout: 60_000 });
    if (probe.status !== 0) return (ready = { ok: false, reason: `SKIPPED: podman cannot run a container here: ${(probe.stderr || probe.stdout).trim().split('\n').slice(-3).join(' | ')}` });
    return (ready = { ok: true });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return (ready = { ok: false, reason: `SKIPPED: podman test setup failed: ${(e.stderr || e.message).trim().split('\n').slice(-3).join(' | ')}` });
  }
}

/** Remove a container whatever its state (test cleanup). */
export function removeContainer(name: string): void {
  spawnSync('podman', ['rm', '-f', '-t', '0', name], { env: process.env, stdio: 'ignore' });
}
