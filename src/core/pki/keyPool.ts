import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createPrivateKey, createPublicKey, KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { UsageError } from '../errors';
import { ensureDir, writeFileAtomic } from '../fs/light';
import type { FarmHandle } from '../farm/light';
import { issuedKeyHashes, publicKeySha256 } from './issuedKeys';
import { leafKeyPem, newRsaKey } from './keys';
import type { PkiPaths } from './paths';
import { pidAlive } from '../process/light';
import type { PkiIndex } from './types';

/**
 * The spare-key pool: RSA-2048 leaf keys made ahead of time in pki/private/spare/, so that issuing a certificate need
 * not wait for key generation (~200 ms on a small CPU, and very uneven).
 *
 * Why this is safe: a spare key is protected exactly like an issued client key. It lives in the same tree
 * (pki/private, 0700), with the same mode (0600) and form (PKCS#1 PEM), written atomically, and it never leaves pki/.
 * Whoever can read a spare can already read every issued client key and the CA key beside it, so the pool adds no
 * exposure, and a key that waited a month in the pool is no weaker than a client key issued a month ago.
 *
 * Each key is used once. Issuance claims a spare under the PKI lock by renaming it to the new certificate's per-serial
 * key file: the rename is atomic and only one process can win it, and from that instant the key is no longer in the
 * pool. If the run dies after the claim, the key stays at that serial and is never handed out again: recovery burns
 * the serial and deletes the key, or, when the run died before its journal, the serial is reused and the file
 * overwritten. A spare is checked when claimed: a regular file of ours, 0600, RSA 2048 with e = 65537, our exact
 * PKCS#1 PEM, whose two halves agree (a signature made with it verifies). Anything else is deleted and the issuance
 * falls back to a fresh key, without a word in any log.
 */
export const SPARE_TARGET = 4;
const MAX_TARGET = 64;
const SPARE_NAME = /^[0-9a-f]{32}\.key$/;
const MAX_KEY_BYTES = 8192;

/** The pool's file names, sorted so that concurrent claimers try the same file first and all but one move on. */
export async function spareNames(paths: PkiPaths): Promise<string[]> {
  const names = await fsp.readdir(paths.spareDir).catch(() => [] as string[]);
  return names.filter((n) => SPARE_NAME.test(n)).sort();
}

/** The key if `pem` is a leaf key as this farm makes them (RSA 2048, e 65537, our PKCS#1 PEM, consistent), else undefined. */
export function checkLeafKey(pem: string): KeyObject | undefined {
  let key: KeyObject;
  try { key = createPrivateKey({ key: pem, format: 'pem' }); } catch { return undefined; }
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType !== 'rsa' || d?.modulusLength !== 2048 || d.publicExponent !== 65537n) return undefined;
  if (leafKeyPem(key) !== pem) return undefined;
  // A modulus that does not belong to the private exponent would give certificates nobody can use.
  const probe = randomBytes(32);
  try {
    if (!verify('sha256', probe, createPublicKey(key), sign('sha256', probe, key))) return undefined;
  } catch { return undefined; }
  return key;
}

/**
 * Read a spare without following a symlink; only a small regular file of ours that nobody else could read counts, with
 * one name only: a second hard link could hand the same key out again.
 */
async function readSpare(file: string): Promise<KeyObject | undefined> {
  let h: fsp.FileHandle;
  try { h = await fsp.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW); } catch { return undefined; }
  try {
    const st = await h.stat();
    if (!st.isFile() || st.nlink !== 1 || (st.mode & 0o077) !== 0 || st.size > MAX_KEY_BYTES) return undefined;
    if (process.getuid && st.uid !== process.getuid()) return undefined;
    return checkLeafKey(await h.readFile('utf8'));
  } catch {
    return undefined;
  } finally {
    await h.close().catch(() => undefined);
  }
}

/**
 * Put one key in the pool (0600, atomic, under a fresh random name). Only into an existing pki/private: a race started
 * before the farm was checked must not create a PKI tree where there is no farm.
 */
export async function addSpare(paths: PkiPaths, key: KeyObject): Promise<void> {
  try { await fsp.mkdir(paths.spareDir, 0o700); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; }
  await fsp.chmod(paths.spareDir, 0o700);
  await writeFileAtomic(path.join(paths.spareDir, `${randomBytes(16).toString('hex')}.key`), leafKeyPem(key), { mode: 0o600 });
}

/**
 * Call under the PKI lock: move a spare to `to` (the new certificate's per-serial key file) and return its key, or
 * undefined when the pool has no usable key. Spares that fail the checks are deleted on the way, and so is a spare
 * whose public key the CA has certified before (a copy of a key already handed out, e.g. a restored backup).
 */
export async function claimSpareKey(paths: PkiPaths, to: string, index: PkiIndex): Promise<KeyObject | undefined> {
  const names = await spareNames(paths);
  if (!names.length) return undefined;
  await ensureDir(path.dirname(to), 0o700, true);
  let issued: Set<string> | undefined;
  for (const name of names) {
    try { await fsp.rename(path.join(paths.spareDir, name), to); } catch { continue; } // another process won it
    const key = await readSpare(to);
    issued ??= key ? await issuedKeyHashes(index, paths) : undefined;
    if (key && !issued!.has(publicKeySha256(key))) return key;
    await fsp.rm(to, { force: true });
  }
  return undefined;
}

// Race losers still being written to the pool (a CLI process stays alive until they are).
const stashing = new Set<Promise<void>>();

/** Resolves when every race loser of this process is in the pool (tests and benchmarks wait for it). */
export async function keyPoolSettled(): Promise<void> {
  while (stashing.size) await Promise.allSettled([...stashing]);
}

/** Two key generations under way: `first` is the key; keepLoser() sends the other one to the pool. */
export interface KeyRace {
  first: Promise<KeyObject>;
  /** Call once the issuance is committed: a refused request changes nothing on disk, not even the pool. */
  keepLoser(): void;
}

/**
 * Two generations at once on the thread pool; the key is whichever finishes first. Generation time varies a lot from
 * key to key (random prime search), so the faster of two is much faster at the median and far faster in the tail.
 * The other key is not wasted: it goes to the pool.
 */
export function raceForKey(paths: PkiPaths): KeyRace {
  const both = [newRsaKey(2048), newRsaKey(2048)];
  let winner: KeyObject | undefined;
  const first = new Promise<KeyObject>((resolve, reject) => {
    let failed = 0;
    for (const p of both) p.then((k) => { winner ??= k; resolve(winner); }, (e) => { if (++failed === both.length) reject(e); });
  });
  let kept = false;
  return {
    first,
    keepLoser() {
      if (kept) return;
      kept = true;
      const stash = (async () => {
        const done = await Promise.allSettled(both);
        for (const r of done) if (r.status === 'fulfilled' && r.value !== winner) await addSpare(paths, r.value).catch(() => undefined);
      })();
      stashing.add(stash);
      void stash.finally(() => stashing.delete(stash));
    },
  };
}

export interface KeyPoolStatus {
  /** pki/private/spare */
  dir: string;
  /** Usable spare keys now. */
  count: number;
  /** Spares that failed the checks: counted by keyPoolStatus, deleted by fillKeyPool. */
  discarded: number;
  /** Keys fillKeyPool added. */
  added: number;
}

/** Temp files of fills that were killed (a fill holds no lock, so lock takeover's clean-up never sees them). */
async function removeDeadTemps(paths: PkiPaths): Promise<void> {
  for (const n of await fsp.readdir(paths.spareDir).catch(() => [] as string[])) {
    const m = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(n);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) await fsp.rm(path.join(paths.spareDir, n), { force: true });
  }
}

async function survey(paths: PkiPaths, discard: boolean): Promise<{ count: number; bad: number }> {
  if (discard) await removeDeadTemps(paths);
  let count = 0;
  let bad = 0;
  for (const n of await spareNames(paths)) {
    const f = path.join(paths.spareDir, n);
    if (await readSpare(f)) count++;
    else if (fs.existsSync(f)) { // gone meanwhile means claimed, not bad
      bad++;
      if (discard) await fsp.rm(f, { force: true });
    }
  }
  return { count, bad };
}

/** How many usable spare keys the farm holds (reads only). */
export async function keyPoolStatus(h: FarmHandle): Promise<KeyPoolStatus> {
  const paths = h.pki;
  const { count, bad } = await survey(paths, false);
  return { dir: paths.spareDir, count, discarded: bad, added: 0 };
}

export interface FillKeyPoolOptions {
  /** How many usable spares to have afterwards (default SPARE_TARGET). */
  target?: number;
  /** Stop starting new keys (the editor fills the pool when idle and stops when the user acts). */
  signal?: AbortSignal;
}

/**
 * Top the pool up to `target` usable keys (deleting spares that fail the checks). Takes no lock: every key goes to a
 * new name, and a claim that renames a spare meanwhile only makes the count one short.
 */
export async function fillKeyPool(h: FarmHandle, opts: FillKeyPoolOptions = {}): Promise<KeyPoolStatus> {
  const target = opts.target ?? SPARE_TARGET;
  if (!Number.isInteger(target) || target < 0 || target > MAX_TARGET) {
    throw new UsageError(`A key pool of ${String(target)} keys is not supported.`, `Give a whole number from 0 to ${MAX_TARGET}.`);
  }
  const paths = h.pki;
  await ensureDir(paths.privateDir, 0o700, true);
  await ensureDir(paths.spareDir, 0o700, true);
  const { count, bad } = await survey(paths, true);
  let added = 0;
  let missing = Math.max(0, target - count);
  // Two at a time: enough to use both cores of a small machine without starving whatever else it does.
  const worker = async () => {
    while (missing > 0 && !opts.signal?.aborted) {
      missing--;
      await addSpare(paths, await newRsaKey(2048));
      added++;
    }
  };
  await Promise.all([worker(), worker()]);
  return { dir: paths.spareDir, count: count + added, discarded: bad, added };
}
