import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { FarmError } from '../errors';
import { ensureDir, exists, userCacheDir } from '../fs/light';
import { withTreeLock } from '../ipxe';
import { which } from '../process/light';
import { run, runOk } from '../process';
import { probePodman } from './podmanProbe';

/**
 * An nginx container image made from this machine's own distribution packages (DESIGN.md §9), for labs that reach
 * their Debian/Ubuntu mirror but no container registry: `apt-get download` nginx and the libraries it links,
 * `dpkg-deb -x` them into a root folder, `FROM scratch` + `ADD`, `podman build`. Named honestly under localhost/,
 * never as the official image. Like the official image its logs are the container's stdout/stderr and its workers
 * run as nginx (uid/gid 101), the group the boot service's socket admits (workerGroup.ts).
 */

export const LOCAL_NGINX_REPO = 'localhost/ipxe-farm-nginx';
/** Label carrying the full distribution version the image was made from. */
export const LOCAL_NGINX_LABEL = 'io.ipxe-farm.nginx-package';
const WORKER_ID = 101;
/** busybox gives the image a /bin/sh, which the warm reload shell (containerShell.ts) uses; optional. */
const EXTRAS = ['busybox-static'];

export interface LocalNginxImage {
  image: string;
  /** The distribution's version of the nginx package, e.g. 1.22.1-9+deb12u12. */
  packageVersion: string;
  packages: string[];
  /** `nginx -v` from inside the image, or why it could not be run. */
  check: string;
  durationMs: number;
}

interface PackageInfo { version: string; depends: string[] }

/** `apt-cache show` of several packages in one call (each call reads apt's whole cache: seconds on a busy machine). */
async function packageInfos(names: string[], signal?: AbortSignal): Promise<Map<string, PackageInfo>> {
  const found = new Map<string, PackageInfo>();
  if (!names.length) return found;
  // Unknown names make apt-cache exit non-zero but still print the others.
  const r = await run('apt-cache', ['show', '--no-all-versions', ...names], { signal, timeout: 120_000 });
  for (const para of r.stdout.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(para)?.[1];
    const version = /^Version:\s*(\S+)/m.exec(para)?.[1];
    if (!name || !version || found.has(name)) continue;
    const depends: string[] = [];
    const deps = /^(?:Pre-)?Depends:\s*(.+)$/gm;
    for (let m = deps.exec(para); m; m = deps.exec(para)) {
      // The first of each set of alternatives, without version or architecture qualifiers.
      for (const group of m[1]!.split(',')) depends.push(group.split('|')[0]!.trim().split(/[\s:(]/)[0]!);
    }
    found.set(name, { version, depends });
  }
  return found;
}

/**
 * nginx's package and what it needs at run time: nginx* packages (Ubuntu splits the binary into nginx-core) and
 * shared libraries, followed transitively; tools that only maintainer scripts use (iproute2, debconf…) stay out.
 */
export async function nginxPackageClosure(signal?: AbortSignal): Promise<{ version: string; packages: string[]; extras: string[] }> {
  const first = await packageInfos(['nginx', ...EXTRAS], signal);
  const top = first.get('nginx');
  if (!top) throw new FarmError('apt knows no nginx package on this machine, so no nginx image can be built from it.', 'Run `sudo apt-get update` (Debian or Ubuntu with its usual mirrors), then try again.', 'ENOPACKAGE');
  const wanted = (p: string) => /^(nginx|lib|zlib)/.test(p) && !/^lib.*-(dev|doc)$/.test(p);
  const seen = new Set<string>(['nginx']);
  let level = top.depends;
  while (level.length) {
    const ask = [...new Set(level)].filter((p) => !seen.has(p) && wanted(p));
    const infos = await packageInfos(ask, signal);
    level = [];
    for (const [name, info] of infos) {
      if (seen.has(name)) continue;
      seen.add(name);
      level.push(...info.depends);
    }
  }
  return { version: top.version, packages: [...seen].sort(), extras: EXTRAS.filter((e) => first.has(e)) };
}

/** The image tag: the upstream part of the package version (1.22.1-9+deb12u12 → 1.22.1). */
export function localImageTag(packageVersion: string): string {
  const upstream = packageVersion.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
  return `${LOCAL_NGINX_REPO}:${upstream.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

async function writeRootfsFiles(root: string): Promise<void> {
  for (const d of ['etc', 'tmp', 'run', 'var/log/nginx', 'var/lib/nginx', 'var/cache/nginx', 'bin', 'dev']) await fsp.mkdir(path.join(root, d), { recursive: true });
  await fsp.chmod(path.join(root, 'tmp'), 0o1777);
  await fsp.writeFile(path.join(root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/sh\nnginx:x:${WORKER_ID}:${WORKER_ID}:nginx:/nonexistent:/bin/false\n`);
  await fsp.writeFile(path.join(root, 'etc/group'), `root:x:0:\nnginx:x:${WORKER_ID}:\n`);
  // Like the official image: the logs are the container's output, so `podman logs` shows them.
  for (const [name, target] of [['access.log', '/dev/stdout'], ['error.log', '/dev/stderr']]) {
    const link = path.join(root, 'var/log/nginx', name!);
    await fsp.rm(link, { force: true });
    await fsp.symlink(target!, link);
  }
  const busybox = (await exists(path.join(root, 'bin/busybox'))) ? '/bin/busybox' : (await exists(path.join(root, 'usr/bin/busybox'))) ? '/usr/bin/busybox' : undefined;
  if (busybox) {
    for (const tool of ['sh', 'cat', 'ls', 'kill', 'sleep']) {
      const link = path.join(root, 'bin', tool);
      if (!(await exists(link))) await fsp.symlink(busybox, link);
    }
  }
}

/** Build (or rebuild) the image; the downloaded packages stay cached per version for the next build. */
export async function buildLocalNginxImage(opts: { signal?: AbortSignal; onProgress?: (line: string) => void; podman?: string } = {}): Promise<LocalNginxImage> {
  const t0 = Date.now();
  const podman = opts.podman ?? 'podman';
  for (const p of ['apt-get', 'apt-cache', 'dpkg-deb', 'tar', podman]) {
    if (!which(p)) throw new FarmError(`${p} is not available, so no nginx image can be built from this machine's packages.`, p === podman ? 'Install podman (sudo apt-get install podman runc).' : 'This needs a Debian or Ubuntu machine.', 'ENOPROGRAM');
  }
  const say = opts.onProgress ?? (() => undefined);
  const cache = path.join(userCacheDir(), 'nginx-image');
  await ensureDir(cache);
  return withTreeLock(cache, async () => {
    const { version, packages, extras } = await nginxPackageClosure(opts.signal);
    const all = [...packages, ...extras];
    const debs = path.join(cache, `debs-${version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`);
    await ensureDir(debs);
    const have = (await fsp.readdir(debs)).filter((f) => f.endsWith('.deb'));
    const missing = all.filter((p) => !have.some((f) => f.startsWith(`${p}_`)));
    if (missing.length) {
      say(`apt-get download ${missing.join(' ')}`);
      await runOk('apt-get', ['-q', 'download', ...missing], { cwd: debs, signal: opts.signal, timeout: 10 * 60_000 });
    }
    const work = await fsp.mkdtemp(path.join(cache, 'build-'));
    try {
      const root = path.join(work, 'rootfs');
      await fsp.mkdir(root);
      for (const deb of (await fsp.readdir(debs)).filter((f) => f.endsWith('.deb'))) {
        await runOk('dpkg-deb', ['-x', path.join(debs, deb), root], { signal: opts.signal, timeout: 5 * 60_000 });
      }
      await writeRootfsFiles(root);
      if (!(await exists(path.join(root, 'usr/sbin/nginx')))) throw new FarmError(`The packages ${all.join(', ')} hold no usr/sbin/nginx.`, 'Report this distribution\'s nginx packaging to iPXE Farm.', 'ENOPACKAGE');
      const image = localImageTag(version);
      await fsp.writeFile(path.join(work, 'Containerfile'), [
        'FROM scratch',
        'ADD rootfs.tar /',
        `LABEL ${LOCAL_NGINX_LABEL}="${version}" io.ipxe-farm.packages="${all.join(' ')}"`,
        'STOPSIGNAL SIGQUIT',
        'CMD ["/usr/sbin/nginx", "-g", "daemon off;"]',
        '',
      ].join('\n'));
      await runOk('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', root, '-cf', path.join(work, 'rootfs.tar'), '.'], { signal: opts.signal, timeout: 5 * 60_000 });
      say(`podman build -t ${image} (FROM scratch, nginx ${version} from this machine's apt sources)`);
      await runOk(podman, ['build', '-q', '-t', image, work], { signal: opts.signal, timeout: 10 * 60_000 });
      // Checked by running it, when podman can run containers here; building needs no OCI runtime, running does.
      let check: string;
      const probe = await probePodman({ podman, signal: opts.signal });
      if (probe.ok) {
        const r = await run(podman, ['run', '--rm', '--network', 'none', image, 'nginx', '-v'], { signal: opts.signal, timeout: 120_000 });
        if (r.exitCode !== 0) throw new FarmError(`The image ${image} was built but its nginx does not run: ${(r.stderr || r.stdout).trim().split('\n').pop()}.`, 'Run `ipxe-farm doctor` and report the output.', 'EPODMAN');
        check = r.stderr.trim() || r.stdout.trim();
      } else check = `not run: ${probe.detail}`;
      return { image, packageVersion: version, packages: all, check, durationMs: Date.now() - t0 };
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
    }
  }, { signal: opts.signal, onWait: (m) => say(m.replace('iPXE build', 'nginx image build')) });
}
