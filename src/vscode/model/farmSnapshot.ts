import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { describeError } from '../../core/errors';
import { farmLayout } from '../../core/farm/layout';
import { loadFarm, LoadedFarm } from '../../core/farm/load';
import { readPkiIndex } from '../../core/pki/store';
import { readLastBoots } from '../../core/boot/events';
import type { CertRecord, PkiIndex } from '../../core/pki/types';
import type { ImageState, LastBoot } from './clientItems';

/**
 * One read of everything the trees show: the farm file, the PKI index, the tail of the boot events. Plain Node, so
 * the benchmark and the unit tests load a farm exactly as the editor does.
 */
export interface FarmSnapshot {
  root: string;
  loaded?: LoadedFarm;
  /** Why the farm file could not be used (shown as a tree row; the Problems panel has the details). */
  farmError?: string;
  index: PkiIndex;
  indexError?: string;
  lastBoots: Record<string, LastBoot>;
  images: (client: string) => ImageState;
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
 * Image state from the build outputs under ipxe/<client>/out/: missing without files, stale when older than the
 * client's current certificate or the farm file (the image embeds both), built otherwise. Looked up per row, lazily:
 * a tree of 1,000 clients stats only the rows on screen.
 */
export function imageStateReader(root: string, certs: Map<string, CertRecord>, farmMtimeMs: number): (client: string) => ImageState {
  const cache = new Map<string, ImageState>();
  // One readdir of ipxe/ up front: a client without a folder there has no image, without a failed stat per row
  // (1,000 ENOENT exceptions cost more than the whole rest of the tree).
  let withFolder: Set<string> | undefined;
  return (client) => {
    let s = cache.get(client);
    if (s) return s;
    if (!withFolder) {
      try { withFolder = new Set(fs.readdirSync(path.join(root, 'ipxe'))); } catch { withFolder = new Set(); }
    }
    let newest = 0;
    if (withFolder.has(client)) {
      const dir = path.join(root, 'ipxe', client, 'out');
      try {
        for (const f of fs.readdirSync(dir)) {
          if (!/\.(iso|usb|efi|img)$/.test(f)) continue;
          newest = Math.max(newest, fs.statSync(path.join(dir, f)).mtimeMs);
        }
      } catch { /* no builds */ }
    }
    const cert = certs.get(client);
    s = newest === 0 ? 'missing' : newest < Math.max(farmMtimeMs, cert ? Date.parse(cert.issuedAt) : 0) ? 'stale' : 'built';
    cache.set(client, s);
    return s;
  };
}

export async function readSnapshot(root: string, clientCerts: (index: PkiIndex) => Map<string, CertRecord>): Promise<FarmSnapshot> {
  const [farm, idx, boots] = await Promise.all([
    loadFarm(root).then((loaded) => ({ loaded }), (err) => ({ error: describeError(err) })),
    readIndex(root),
    readLastBoots(root).catch((): Record<string, LastBoot> => ({})),
  ]);
  const mtime = await fsp.stat(farmLayout(root).farmFile).then((s) => s.mtimeMs, () => 0);
  return {
    root,
    loaded: 'loaded' in farm ? farm.loaded : undefined,
    farmError: 'error' in farm ? farm.error : undefined,
    index: idx.index,
    indexError: idx.error,
    lastBoots: boots,
    images: imageStateReader(root, clientCerts(idx.index), mtime),
    readAt: Date.now(),
  };
}
