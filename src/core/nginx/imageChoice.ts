import { FarmError } from '../errors';
import { run } from '../process';
import { LOCAL_NGINX_REPO } from './localImage';

/**
 * Which nginx image the podman runtime runs. A farm that names its own image gets exactly that. A farm on the default
 * (the official image) gets the official image when it is here or can be pulled, else the image built from this
 * machine's packages (`ipxe-farm nginx image`), so an offline lab needs no registry. Once built, the local image is
 * used without trying the registry first: whoever built it did so because the pull did not work.
 */

export const OFFICIAL_NGINX_IMAGE = 'docker.io/library/nginx:latest';
const OFFICIAL_NAMES = new Set([OFFICIAL_NGINX_IMAGE, 'nginx', 'nginx:latest', 'docker.io/library/nginx', 'docker.io/nginx:latest']);

export type NginxImageSource = 'configured' | 'official' | 'local';

export interface NginxImageChoice {
  image: string;
  source: NginxImageSource;
  /** On this machine now (false: `nginx up` will fail, see `fix`). */
  present: boolean;
  /** One line for `nginx status` and `doctor`. */
  describe: string;
  fix?: string;
}

export const BUILD_LOCAL_IMAGE_FIX = 'Build one from this machine\'s Debian/Ubuntu packages with `ipxe-farm nginx image` (no registry needed), or `podman pull docker.io/library/nginx:latest` where Docker Hub is reachable.';

export function isDefaultNginxImage(image: string): boolean {
  return OFFICIAL_NAMES.has(image);
}

async function imageExists(podman: string, image: string, signal?: AbortSignal): Promise<boolean> {
  // A podman that is not installed throws ENOPROGRAM here: that, not a missing image, is what the user must hear.
  return (await run(podman, ['image', 'exists', image], { signal, timeout: 30_000 })).exitCode === 0;
}

/** The newest localhost/ipxe-farm-nginx:* on this machine. */
export async function findLocalNginxImage(podman = 'podman', signal?: AbortSignal): Promise<string | undefined> {
  const r = await run(podman, ['images', '--filter', `reference=${LOCAL_NGINX_REPO}`, '--format', '{{.Repository}}:{{.Tag}}'], { signal, timeout: 30_000 }).catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined;
  const tags = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(`${LOCAL_NGINX_REPO}:`) && !l.endsWith(':<none>'));
  const num = (t: string) => t.slice(LOCAL_NGINX_REPO.length + 1).split(/[._-]/).map((x) => Number(x) || 0);
  tags.sort((a, b) => {
    const [x, y] = [num(a), num(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (y[i] ?? 0) - (x[i] ?? 0);
    return 0;
  });
  return tags[0];
}

export async function chooseNginxImage(configured: string, opts: { podman?: string; pull?: boolean; signal?: AbortSignal; onProgress?: (line: string) => void } = {}): Promise<NginxImageChoice> {
  const podman = opts.podman ?? 'podman';
  if (!isDefaultNginxImage(configured)) {
    const present = await imageExists(podman, configured, opts.signal);
    return {
      image: configured, source: 'configured', present,
      describe: `${configured} (nginx.image in ipxe-farm.json)${present ? '' : ', not on this machine'}`,
      fix: present ? undefined : `Get it with \`podman pull ${configured}\`, or remove nginx.image from ipxe-farm.json to use the official image or one built here (\`ipxe-farm nginx image\`).`,
    };
  }
  const official = { image: OFFICIAL_NGINX_IMAGE, source: 'official' as const, present: true, describe: `${OFFICIAL_NGINX_IMAGE} (the official image)` };
  if (await imageExists(podman, OFFICIAL_NGINX_IMAGE, opts.signal)) return official;
  const local = await findLocalNginxImage(podman, opts.signal);
  if (local) return { image: local, source: 'local', present: true, describe: `${local} (built here from this machine's nginx packages; the official image is not here)` };
  if (opts.pull) {
    opts.onProgress?.(`podman pull ${OFFICIAL_NGINX_IMAGE}`);
    const r = await run(podman, ['pull', '-q', OFFICIAL_NGINX_IMAGE], { signal: opts.signal, timeout: 45_000 }).catch((err: unknown) => ({ exitCode: 1, stderr: String(err), stdout: '' }));
    if (r.exitCode === 0) return official;
    opts.onProgress?.(`could not pull ${OFFICIAL_NGINX_IMAGE}: ${(r.stderr || 'timed out').trim().split('\n').pop()}`);
  }
  return {
    image: OFFICIAL_NGINX_IMAGE, source: 'official', present: false,
    describe: `no nginx image: neither ${OFFICIAL_NGINX_IMAGE} nor ${LOCAL_NGINX_REPO}:* is on this machine`,
    fix: BUILD_LOCAL_IMAGE_FIX,
  };
}

export function missingImageError(choice: NginxImageChoice): FarmError {
  return new FarmError(`The container image ${choice.image} is not on this machine${choice.source === 'official' ? ' and could not be pulled' : ''}.`, choice.fix ?? BUILD_LOCAL_IMAGE_FIX, 'ENOIMAGE');
}
