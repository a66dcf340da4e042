import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { FarmLayout } from '../farm/layout';
import type { ImageTarget } from '../farm/model';
import { ensureDir, writeFileAtomic } from '../fs/atomic';
import { checkName } from '../farm/rules';
import type { IpxeFlavour, IpxeSource } from './source';

/** One built image: what it was made from, so a later look can tell whether it is still current. */
export interface ImageRecord {
  target: ImageTarget;
  files: Array<{ name: string; sha256: string; bytes: number }>;
  source: { dir: string; origin: IpxeSource['origin']; ref: string; version: string; flavour: IpxeFlavour; commit?: string; sourceId: string };
  scriptSha256: string;
  cert: { serial: string; sha256: string; notAfter: string };
  caSha256: string;
  /** Hash of the config/local headers this iPXE Farm writes. */
  configSha256: string;
  builtAt: string;
  durationMs: number;
  /** `shared`: the farm's shared binary plus this client's identity (assemble.ts), not a make of its own. */
  options: { target: ImageTarget; debug: string | null; makeVars: string[]; script: Record<string, unknown>; shared?: boolean };
}

export interface ImageManifest {
  version: 1;
  client: string;
  /** Note for whoever opens the folder. */
  note: string;
  images: Partial<Record<ImageTarget, ImageRecord>>;
}

export const MANIFEST_FILE = 'manifest.json';
export const SCRIPT_COPY = 'embedded.ipxe';

/** ipxe/<client>/out: 0700, because every image in it holds the client's private key. */
export function clientOutDir(layout: FarmLayout, client: string): string {
  checkName('client', client);
  return path.join(layout.ipxe, client, 'out');
}

/** Image file names per target, main image first. */
export function imageFiles(target: ImageTarget): string[] {
  if (target === 'efi') return ['ipxe.efi', 'ipxe-efi.img'];
  return [target === 'iso' ? 'ipxe.iso' : 'ipxe.usb'];
}

export async function readManifest(layout: FarmLayout, client: string): Promise<ImageManifest | undefined> {
  try {
    const m = JSON.parse(await fsp.readFile(path.join(clientOutDir(layout, client), MANIFEST_FILE), 'utf8')) as ImageManifest;
    return m && m.version === 1 && typeof m.images === 'object' && m.images ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Add or replace one target's record; the other targets' records stay. Also keeps a copy of the embedded script. */
export async function writeManifest(layout: FarmLayout, client: string, record: ImageRecord, script: string): Promise<string> {
  const dir = clientOutDir(layout, client);
  await ensureDir(dir, 0o700, true);
  const current = await readManifest(layout, client);
  const manifest: ImageManifest = {
    version: 1,
    client,
    note: 'Images here hold this client\'s private key (mode 0600): copy them only to the machine they are for.',
    images: { ...(current?.images ?? {}), [record.target]: record },
  };
  const file = path.join(dir, MANIFEST_FILE);
  await writeFileAtomic(file, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  await writeFileAtomic(path.join(dir, SCRIPT_COPY), script, { mode: 0o600 });
  return file;
}
