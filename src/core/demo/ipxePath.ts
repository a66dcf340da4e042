import { FarmError } from '../errors';
import type { Farm } from '../farm/light';
import { locateIpxeSource, type IpxeSource } from '../ipxe';

/**
 * Which iPXE the demo boots. `built`: an image compiled from a source tree with the farm CA and the client's identity
 * inside, kernel and initrd checked by imgverify. `stock`: Debian's prebuilt EFI iPXE on a stick (DESIGN.md §6), the
 * CA in the firmware's variable store, kernel and initrd pinned by SHA-256 in the served script. A fresh machine that
 * cannot reach GitHub has only the second, so `auto` falls back to it instead of failing.
 */
export type DemoIpxeWish = 'auto' | 'built' | 'stock';

export type DemoIpxeChoice =
  | { kind: 'built'; source: IpxeSource }
  | { kind: 'stock'; why: string };

/** The one line the demo prints when it boots the stock image: why, and how to get the built-image path. */
export const BUILT_PATH_HINT = 'for the built image (imgverify, BIOS ISO) run `ipxe-farm ipxe source --fetch` once, or set IPXE_SRC to an iPXE checkout';

/** Errors that mean "no tree to be had here", as opposed to a tree the user named that is wrong. */
const NO_TREE = new Set(['ENOIPXE', 'ECLONE', 'ENOPROGRAM']);

export async function chooseDemoIpxe(
  farm: Pick<Farm, 'ipxe'>,
  root: string,
  wish: DemoIpxeWish,
  opts: { clone?: boolean; env?: NodeJS.ProcessEnv; signal?: AbortSignal; onProgress?: (line: string) => void } = {},
): Promise<DemoIpxeChoice> {
  if (wish === 'stock') return { kind: 'stock', why: 'asked for with --ipxe stock' };
  const env = opts.env ?? process.env;
  try {
    const source = await locateIpxeSource(farm, root, { env, clone: opts.clone !== false, signal: opts.signal, onProgress: opts.onProgress });
    return { kind: 'built', source };
  } catch (err) {
    // A tree the user pointed at (IPXE_SRC, ipxe.source) that is not one is their mistake to fix, not a reason to
    // quietly boot something else; so is an explicit --ipxe built.
    const named = !!env.IPXE_SRC || !!farm.ipxe.source;
    if (wish === 'built' || named || opts.signal?.aborted || !(err instanceof FarmError) || !NO_TREE.has(err.code)) throw err;
    const why = err.message.split('\n')[0]!.replace(/\.$/, '');
    return { kind: 'stock', why: opts.clone === false ? `${why} (and cloning was turned off)` : why };
  }
}
