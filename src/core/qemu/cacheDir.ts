import * as os from 'node:os';
import * as path from 'node:path';

/** The per-user cache shared by every farm: ${XDG_CACHE_HOME:-~/.cache}/ipxe-farm (iPXE sources, stock binaries, probes). */
export function userCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME)
    ? process.env.XDG_CACHE_HOME
    : path.join(os.homedir(), '.cache');
  return path.join(base, 'ipxe-farm');
}
