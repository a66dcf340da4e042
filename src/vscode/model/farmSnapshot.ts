import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { describeError } from '../../core/errors';
import { farmLayout } from '../../core/farm/layout';
import { loadFarm, LoadedFarm } from '../../core/farm/load';
import { pkiPaths } from '../../core/pki/paths';
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
const EVENTS_TAIL = 1024 * 1024;

async function readIndex(root: string): Promise<{ index: PkiIndex; error?: string }> {
  const file = pkiPaths(farmLayout(root)).index;
  try {
    const idx = JSON.parse(await fsp.readFile(file, 'utf8')) as PkiIndex;
    if (!Array.isArray(idx.records)) return { index: EMPTY_INDEX, error: `${file} is not a PKI index.` };
    return { index: idx };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { index: EMPTY_INDEX };
    return { index: EMPTY_INDEX, error: `${file} cannot be read: ${(err as Error).message}` };
  }
}

/** The newest event per client from the last megabyte of .ipxe-farm/boot-events.jsonl (one JSON object a line). */
export async function readLastBootsTail(file: string): Promise<Record<string, LastBoot>> {
  const out: Record<string, LastBoot> = {};
  let h: fsp.FileHandle;
  try { h = await fsp.open(file, 'r'); } catch { return out; }
  try {
    const { size } = await h.stat();
    const start = Math.max(0, size - EVENTS_TAIL);
    const buf = Buffer.alloc(size - start);
    await h.read(buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    if (start > 0) lines.shift();
    for (const l of lines) {
      if (!l.trim()) continue;
      try {
        const e = JSON.parse(l) as LastBoot & { client?: string };
        if (e.client && typeof e.time === 'string') out[e.client] = e;
      } catch { /* a torn last line while the service writes */ }
    }
  } finally {
    await h.close();
  }
  return out;
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
    readLastBootsTail(farmLayout(root).bootEvents),
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
