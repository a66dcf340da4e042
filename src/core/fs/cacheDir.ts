import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The per-user cache shared by every farm: ${XDG_CACHE_HOME:-~/.cache}/ipxe-farm (iPXE sources, stock binaries, test
 * kernels, probes). A relative XDG_CACHE_HOME is ignored, as the XDG spec says.
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
    ? env.XDG_CACHE_HOME
    : path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'ipxe-farm');
}
