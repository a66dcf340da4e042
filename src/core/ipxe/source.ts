import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { userCacheDir, ensureDir, exists } from '../fs/light';
import { FarmError } from '../errors';
import { run } from '../process';
import type { Farm } from '../farm/light';

/** Upstream iPXE; a farm may pin any tag, branch or full commit of it. */
export const IPXE_UPSTREAM = 'https://github.com/ipxe/ipxe.git';
export const DEFAULT_IPXE_REF = 'v2.0.0';

/**
 * v2: iPXE 2.x (TLS 1.2 with ECDHE/GCM, fast client-certificate handshake).
 * modern: the 1.20–1.21 releases, built with the same flags as v2.
 * legacy: the 1.0.0+ snapshots such as the 2019 commit Debian 12 packages (36a4c85): needs extra build flags and a
 * traditional RSA key file, and has weak TLS.
 */
export type IpxeFlavour = 'v2' | 'modern' | 'legacy';

export interface IpxeSource {
  /** Tree root: the folder holding src/Makefile. */
  dir: string;
  /** `dir/src`, where make runs. */
  srcDir: string;
  /** Where the tree came from, in the order they are tried. */
  origin: 'farm' | 'env' | 'cache' | 'cloned';
  /** The ref the farm asks for (only meaningful for the cache and clones). */
  ref: string;
  /** "2.0.0" from src/Makefile's VERSION_* lines. */
  version: string;
  flavour: IpxeFlavour;
  /** HEAD of a git checkout; undefined for an exported tree. */
  commit?: string;
  /**
   * Identity of the tree's contents for staleness: the commit when there is one, else a hash of src/Makefile and the
   * version (an exported tree has nothing better that is cheap to read).
   */
  sourceId: string;
  /** Extra make variables this version needs. */
  makeVars: string[];
  /** The 2019 build reads only a PKCS#1 ("traditional") private key; OpenSSL 3 writes PKCS#8 unless told. */
  needsTraditionalKey: boolean;
  /** Known limits of this version, for the person building. */
  warnings: string[];
}

export interface LocateOptions {
  env?: NodeJS.ProcessEnv;
  /** Clone into the cache when no tree is found (default true). */
  clone?: boolean;
  /** Repository to clone from (tests point it elsewhere). */
  upstream?: string;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
}

const REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;

function checkRef(ref: string): void {
  if (!REF_PATTERN.test(ref) || ref.includes('..') || ref.endsWith('/') || ref.endsWith('.lock')) {
    throw new FarmError(`The iPXE ref "${ref}" is not a valid git tag, branch or commit name.`, 'Set `ipxe.ref` in ipxe-farm.json to a tag such as v2.0.0 or a full commit hash.', 'EFARMFILE');
  }
}

/** `${XDG_CACHE_HOME:-$HOME/.cache}/ipxe-farm/src`: per user, shared by every farm of that user. */
export function ipxeCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userCacheDir(env), 'src');
}

export function cachedTreeDir(ref: string, env: NodeJS.ProcessEnv = process.env): string {
  checkRef(ref);
  return path.join(ipxeCacheRoot(env), `ipxe-${ref.replace(/\//g, '_')}`);
}

async function isIpxeTree(dir: string): Promise<boolean> {
  return (await exists(path.join(dir, 'src', 'Makefile'))) && (await exists(path.join(dir, 'src', 'include', 'ipxe')));
}

/** Accept both the tree root and its src/ folder (people point at either). */
async function normaliseTree(dir: string): Promise<string | undefined> {
  const abs = path.resolve(dir);
  if (await isIpxeTree(abs)) return abs;
  if (path.basename(abs) === 'src' && (await isIpxeTree(path.dirname(abs)))) return path.dirname(abs);
  return undefined;
}

async function gitCommit(dir: string): Promise<string | undefined> {
  if (!(await exists(path.join(dir, '.git')))) return undefined;
  try {
    const r = await run('git', ['-C', dir, 'rev-parse', 'HEAD'], { timeout: 10_000 });
    const sha = r.stdout.trim();
    return r.exitCode === 0 && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

/** Version, flavour and the flags and warnings that follow from them. */
export async function describeTree(dir: string, origin: IpxeSource['origin'], ref: string): Promise<IpxeSource> {
  const srcDir = path.join(dir, 'src');
  const makefile = await fsp.readFile(path.join(srcDir, 'Makefile'), 'utf8');
  const field = (name: string) => new RegExp(`^${name}\\s*:?=\\s*(\\d+)`, 'm').exec(makefile)?.[1];
  const [major, minor, patch] = [field('VERSION_MAJOR'), field('VERSION_MINOR'), field('VERSION_PATCH')].map((v) => Number(v ?? NaN));
  const version = [major, minor, patch].every((n) => Number.isFinite(n)) ? `${major}.${minor}.${patch}` : 'unknown';
  const commit = await gitCommit(dir);
  let flavour: IpxeFlavour;
  if ((major ?? 0) >= 2) flavour = 'v2';
  else if (major === 1 && (minor ?? 0) >= 20) flavour = 'modern';
  else flavour = 'legacy';
  const warnings: string[] = [];
  const makeVars: string[] = [];
  if (flavour === 'legacy') {
    // gcc 12 rejects the 2019 tree's tentative definitions and new warnings; both are harmless there.
    makeVars.push('NO_WERROR=1', 'EXTRA_CFLAGS=-fcommon');
    warnings.push(
      `iPXE ${version}${commit ? ` (${commit.slice(0, 7)})` : ''} at ${dir} is a pre-2020 snapshot: it speaks only TLS_RSA_WITH_AES_{128,256}_CBC_SHA{,256}, cannot reassemble large handshakes (keep chains to server + CA, RSA 2048), and its client-certificate handshake takes ~20 s under QEMU emulation. Use iPXE v2.0.0 (set \`ipxe.ref\` to v2.0.0 and drop \`ipxe.source\`) unless you must match this build.`,
    );
  }
  if (version === 'unknown') warnings.push(`Cannot read the iPXE version from ${path.join(srcDir, 'Makefile')}; building it as a current release.`);
  const sourceId = commit ?? `sha256:${createHash('sha256').update(makefile).update(version).digest('hex').slice(0, 32)}`;
  return { dir, srcDir, origin, ref, version, flavour, commit, sourceId, makeVars, needsTraditionalKey: flavour === 'legacy', warnings };
}

/**
 * Find the iPXE tree for a farm: `ipxe.source` in the farm file, else $IPXE_SRC, else the per-user cache of
 * `ipxe.ref`, else clone that ref into the cache. A named tree that is not an iPXE tree is an error, not a reason to
 * fall through: the user asked for that one.
 */
export async function locateIpxeSource(farm: { ipxe: Pick<Farm['ipxe'], 'ref'> & Partial<Farm['ipxe']> }, farmRoot: string, opts: LocateOptions = {}): Promise<IpxeSource> {
  const env = opts.env ?? process.env;
  const ref = farm.ipxe.ref || DEFAULT_IPXE_REF;
  if (farm.ipxe.source) {
    const wanted = path.resolve(farmRoot, farm.ipxe.source);
    const dir = await normaliseTree(wanted);
    if (!dir) throw new FarmError(`${wanted} (ipxe.source in ipxe-farm.json) is not an iPXE source tree: it has no src/Makefile.`, 'Point ipxe.source at the folder of an iPXE git checkout, or remove it to use the cached v2.0.0.', 'ENOIPXE');
    return describeTree(dir, 'farm', ref);
  }
  if (env.IPXE_SRC) {
    const dir = await normaliseTree(env.IPXE_SRC);
    if (!dir) throw new FarmError(`IPXE_SRC=${env.IPXE_SRC} is not an iPXE source tree: it has no src/Makefile.`, 'Point IPXE_SRC at the folder of an iPXE git checkout, or unset it.', 'ENOIPXE');
    return describeTree(dir, 'env', ref);
  }
  const cached = cachedTreeDir(ref, env);
  if (await normaliseTree(cached)) return describeTree(cached, 'cache', ref);
  if (opts.clone === false) {
    throw new FarmError(`No iPXE source tree: ipxe.source is not set, IPXE_SRC is not set and ${cached} does not exist.`, `Run \`ipxe-farm ipxe source --fetch\` to clone iPXE ${ref}, or set ipxe.source in ipxe-farm.json to an existing tree.`, 'ENOIPXE');
  }
  await cloneIpxe(ref, cached, opts);
  return describeTree(cached, 'cloned', ref);
}

/**
 * Shallow fetch of one ref into a temp folder beside the cache entry, renamed into place only when complete: an
 * interrupted clone never looks like a tree. `fetch <ref>` works for tags, branches and full commit hashes alike.
 */
export async function cloneIpxe(ref: string, dest: string, opts: LocateOptions = {}): Promise<void> {
  checkRef(ref);
  const url = opts.upstream ?? IPXE_UPSTREAM;
  await ensureDir(path.dirname(dest), 0o755);
  const tmp = `${dest}.partial-${process.pid}-${randomBytes(3).toString('hex')}`;
  const env = { ...(opts.env ?? process.env), GIT_TERMINAL_PROMPT: '0' };
  const git = async (args: string[], what: string) => {
    // git's own "fatal:" lines are left out of the progress: the FarmError below says the same in one sentence.
    const r = await run('git', args, { env, signal: opts.signal, timeout: 15 * 60_000, onOutput: (c) => { if (!/^(fatal|error):/m.test(c)) opts.onProgress?.(c); } });
    if (r.exitCode !== 0) {
      const reason = (r.stderr || r.stdout).trim().split('\n').filter(Boolean).pop() ?? `exit ${r.exitCode}`;
      throw new FarmError(
        `Could not ${what} iPXE ${ref} from ${url}: ${reason.replace(/^fatal:\s*/, '').replace(/\.$/, '')}.`,
        'Check that this machine can reach the repository, or point the farm at an iPXE tree you already have (`ipxe.source` in ipxe-farm.json, or IPXE_SRC=DIR); without one, `ipxe-farm stock-image CLIENT` makes an EFI stick from Debian\'s prebuilt iPXE.',
        'ECLONE',
      );
    }
  };
  try {
    opts.onProgress?.(`Cloning iPXE ${ref} from ${url} into ${dest}\n`);
    await git(['init', '-q', tmp], 'prepare a folder for');
    await git(['-C', tmp, 'fetch', '--depth', '1', url, ref], 'download');
    await git(['-C', tmp, 'checkout', '-q', '--detach', 'FETCH_HEAD'], 'check out');
    if (!(await isIpxeTree(tmp))) throw new FarmError(`${url} at ${ref} is not an iPXE tree (no src/Makefile).`, 'Set `ipxe.ref` to an iPXE tag such as v2.0.0.', 'ECLONE');
    await fsp.rename(tmp, dest);
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}
