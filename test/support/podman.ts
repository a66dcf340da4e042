import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { which } from '../../src/core/process/light';
import { containersConfText } from '../../src/core/nginx/podmanProbe';
import { LOCAL_NGINX_REPO } from '../../src/core/nginx/localImage';
import { OFFICIAL_NGINX_IMAGE } from '../../src/core/nginx/imageChoice';

/**
 * Test-environment setup for podman (DESIGN §4): where podman cannot start containers, the containers.conf that
 * `ipxe-farm doctor` prints (the product's text) goes into CONTAINERS_CONF for this process; the nginx image is the
 * product's own `ipxe-farm nginx image` (localhost/ipxe-farm-nginx:VERSION, from Debian's packages), which farms on the
 * default image run when the official one is not here. Nothing is tagged as the official image any more.
 */
const CACHE = path.join(os.tmpdir(), 'ipxe-farm-podman-cache');
/** out/cli.js of this checkout, from wherever the bundle of a test or benchmark sits. */
function cliPath(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) if (fs.existsSync(path.join(d, 'package.json'))) return path.join(d, 'out', 'cli.js');
  throw new Error(`no package.json above ${__dirname}`);
}

function writeContainersConf(): string {
  const file = path.join(CACHE, 'containers.conf');
  const text = containersConfText();
  fs.mkdirSync(CACHE, { recursive: true });
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(`${file}.tmp`, text), fs.renameSync(`${file}.tmp`, file);
  return file;
}

function localImage(): string | undefined {
  const r = spawnSync('podman', ['images', '--filter', `reference=${LOCAL_NGINX_REPO}`, '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8', env: process.env });
  return r.stdout.split('\n').find((l) => l.startsWith(`${LOCAL_NGINX_REPO}:`));
}

/**
 * The old helper built an image from Debian's .debs and tagged it as the official docker.io/library/nginx:latest in
 * the user's store. Untag it when it is that one (no entrypoint, CMD /usr/sbin/nginx, no maintainer label): the
 * official image has /docker-entrypoint.sh and a maintainer. In use by a container: left, and tried again next time.
 */
export function removeMistaggedOfficialImage(): boolean {
  const r = spawnSync('podman', ['image', 'inspect', OFFICIAL_NGINX_IMAGE, '--format', '{{json .Config}}'], { encoding: 'utf8', env: process.env });
  if (r.status !== 0) return false;
  let config: { Cmd?: string[]; Entrypoint?: string[] | null; Labels?: Record<string, string> | null };
  try { config = JSON.parse(r.stdout); } catch { return false; }
  const ours = config.Cmd?.[0] === '/usr/sbin/nginx' && !config.Entrypoint?.length && !config.Labels?.maintainer;
  if (!ours) return false;
  return spawnSync('podman', ['rmi', OFFICIAL_NGINX_IMAGE], { env: process.env, stdio: 'ignore' }).status === 0;
}

let ready: { ok: true; image: string } | { ok: false; reason: string } | undefined;

/**
 * Make podman usable for tests: CONTAINERS_CONF for this process when podman needs it (the product's plain `podman`
 * calls inherit it) and the product-built nginx image. Returns the reason to skip, loudly, when podman cannot run here.
 */
export function setupPodman(): { ok: true; image: string } | { ok: false; reason: string } {
  if (ready) return ready;
  if (!which('podman')) return (ready = { ok: false, reason: 'SKIPPED: podman is not installed (apt-get install podman runc): the podman runtime was NOT tested' });
  if (!which('runc')) return (ready = { ok: false, reason: 'SKIPPED: runc is not installed (apt-get install runc): the podman runtime was NOT tested' });
  try {
    // The product's probe (podmanProbe.ts), synchronously: an empty root folder, a command that is not in it.
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'podman-probe-'));
    const probe = spawnSync('podman', ['run', '--rm', '--network', 'none', '--rootfs', empty, '/ipxe-farm-probe'], { encoding: 'utf8', env: process.env, timeout: 90_000 });
    fs.rmSync(empty, { recursive: true, force: true });
    if (probe.status !== 127) process.env.CONTAINERS_CONF = writeContainersConf();
    removeMistaggedOfficialImage();
    let image = localImage();
    if (!image) {
      const b = spawnSync(process.execPath, [cliPath(), 'nginx', 'image'], { encoding: 'utf8', env: process.env, timeout: 600_000 });
      if (b.status !== 0) return (ready = { ok: false, reason: `SKIPPED: \`ipxe-farm nginx image\` failed: ${(b.stderr || b.stdout).trim().split('\n').slice(-3).join(' | ')}` });
      image = localImage();
    }
    if (!image) return (ready = { ok: false, reason: '`ipxe-farm nginx image` succeeded but podman lists no localhost/ipxe-farm-nginx image' });
    const run = spawnSync('podman', ['run', '--rm', '--network', 'none', image, '/usr/sbin/nginx', '-v'], { encoding: 'utf8', env: process.env, timeout: 60_000 });
    if (run.status !== 0) return (ready = { ok: false, reason: `SKIPPED: podman cannot run a container here: ${(run.stderr || run.stdout).trim().split('\n').slice(-3).join(' | ')}` });
    return (ready = { ok: true, image });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return (ready = { ok: false, reason: `SKIPPED: podman test setup failed: ${(e.stderr || e.message).trim().split('\n').slice(-3).join(' | ')}` });
  }
}

/** Remove a container whatever its state (test cleanup). */
export function removeContainer(name: string): void {
  spawnSync('podman', ['rm', '-f', '-t', '0', name], { env: process.env, stdio: 'ignore' });
}
