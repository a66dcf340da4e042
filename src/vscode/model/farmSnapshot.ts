import { describeError } from '../../core/errors';
import { openFarm, type FarmHandle, type OpenOptions } from '../../core/farm/light';
import { readPkiIndex } from '../../core/pki/light';
import { readLastBoots } from '../../core/boot/light';
import { farmHealth, type ClientHealth } from '../../core/verdict/light';
import type { PkiIndex } from '../../core/pki/light';
import { ImageStates, type ImageView } from './imageStates';
import type { ImageState, LastBoot } from './clientItems';

/**
 * One read of everything the trees show: the farm file, the PKI index, the tail of the boot events. Plain Node, so
 * the benchmark and the unit tests load a farm exactly as the editor does.
 */
export interface FarmSnapshot {
  root: string;
  /** The farm opened for this snapshot: every tree and command reading the snapshot asks it (runtime included). */
  loaded?: FarmHandle;
  /** Why the farm file could not be used (shown as a tree row; the Problems panel has the details). */
  farmError?: string;
  index: PkiIndex;
  indexError?: string;
  lastBoots: Record<string, LastBoot>;
  /** Per-client boot health from the recorded verdicts. */
  health: Record<string, ClientHealth>;
  images: (client: string) => ImageState;
  imageDetail: (client: string) => ImageView;
  imagePending: { client: string; key: string }[];
  readAt: number;
}

const EMPTY_INDEX: PkiIndex = { version: 1, nextSerial: '01', records: [] };

/** The core reader, made tolerant: a broken index is a tree row with the reason, not a failed refresh. */
async function readIndex(root: string): Promise<{ index: PkiIndex; error?: string }> {
  try {
    return { index: await readPkiIndex(root) };
  } catch (err) {
    return { index: EMPTY_INDEX, error: describeError(err) };
  }
}

/**
 * `images` gives core's cached verdicts (see ImageStates); the clients it has not judged since their inputs changed
 * come back in `imagePending` for the caller to check in the background.
 */
export async function readSnapshot(root: string, images = new ImageStates(), open: OpenOptions = {}): Promise<FarmSnapshot> {
  const [farm, idx, boots] = await Promise.all([
    openFarm(root, open).then((loaded) => ({ loaded }), (err) => ({ error: describeError(err) })),
    readIndex(root),
    readLastBoots(root).catch((): Record<string, LastBoot> => ({})),
  ]);
  const loaded = 'loaded' in farm ? farm.loaded : undefined;
  const imgs = await images.snapshot(root, Object.keys(loaded?.farm.clients ?? {}));
  const health = Object.fromEntries((await farmHealth(root, []).catch(() => [])).map((h) => [h.client, h]));
  return {
    root,
    loaded,
    farmError: 'error' in farm ? farm.error : undefined,
    index: idx.index,
    indexError: idx.error,
    lastBoots: boots,
    health,
    images: (client) => imgs.lookup(client).state,
    imageDetail: (client) => imgs.lookup(client),
    imagePending: imgs.pending,
    readAt: Date.now(),
  };
}
