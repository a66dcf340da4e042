import { userCacheDir } from '../fs/light';
import { loadFarm, type LoadedFarm } from './load';
import { pkiPaths, type PkiPaths } from './pkiPaths';
import { resolveRuntime, type FarmPrograms, type ResolvedRuntime } from './runtimeChoice';

/**
 * One opened farm: the farm file read and checked once, with everything derived from it that callers used to work out
 * again (layout, PKI paths, program paths, the nginx runtime in use, the cache folder). The CLI opens one per command,
 * the editor one per farm snapshot; core functions take it instead of a folder and never reload the farm themselves.
 * It is a snapshot: a command that changes the farm file opens the farm again to see the change.
 */
export interface FarmHandle extends LoadedFarm {
  root: string;
  pki: PkiPaths;
  programs: FarmPrograms;
  runtime: ResolvedRuntime;
  /** The per-user cache shared by every farm (iPXE sources, stock binaries, test kernels). */
  cacheDir: string;
}

export interface OpenOptions {
  programs?: FarmPrograms;
  env?: NodeJS.ProcessEnv;
}

/** A handle for a farm already loaded (the editor's snapshot, the result of updateFarm). */
export function farmHandle(loaded: LoadedFarm, opts: OpenOptions = {}): FarmHandle {
  const env = opts.env ?? process.env;
  const programs = opts.programs ?? {};
  return {
    ...loaded,
    root: loaded.layout.root,
    pki: pkiPaths(loaded.layout),
    programs,
    runtime: resolveRuntime(loaded.farm, loaded.layout, programs, env.PATH ?? ''),
    cacheDir: userCacheDir(env),
  };
}

/** Read and check the farm at `root` (FarmError with the fix when it cannot be used), and decide what derives from it. */
export async function openFarm(root: string, opts: OpenOptions = {}): Promise<FarmHandle> {
  return farmHandle(await loadFarm(root), opts);
}
