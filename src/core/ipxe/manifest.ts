import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as z from 'zod';
import { type FarmLayout, type ImageTarget, checkName } from '../farm/light';
import { ensureDir, writeFileAtomic, parseJsonRecord } from '../fs/light';
import type { IpxeFlavour, IpxeSource } from './source';

const TARGETS = ['iso', 'usb', 'efi'] as const satisfies readonly ImageTarget[];

/** One built image: what it was made from, so a later look can tell whether it is still current. */
const ImageRecordSchema = z.object({
  target: z.enum(TARGETS),
  files: z.array(z.object({ name: z.string(), sha256: z.string(), bytes: z.number() })),
  source: z.object({
    dir: z.string(), origin: z.enum(['farm', 'env', 'cache', 'cloned'] as const satisfies readonly IpxeSource['origin'][]), ref: z.string(), version: z.string(),
    flavour: z.enum(['v2', 'modern', 'legacy'] as const satisfies readonly IpxeFlavour[]), commit: z.string().optional(), sourceId: z.string(),
  }),
  scriptSha256: z.string(),
  cert: z.object({ serial: z.string(), sha256: z.string(), notAfter: z.string() }),
  caSha256: z.string(),
  /** Hash of the config/local headers this iPXE Farm writes. */
  configSha256: z.string(),
  builtAt: z.string(),
  durationMs: z.number(),
  /** `shared`: the farm's shared binary plus this client's identity (assemble.ts), not a make of its own. */
  options: z.object({
    target: z.enum(TARGETS), debug: z.string().nullable(), makeVars: z.array(z.string()),
    script: z.record(z.string(), z.unknown()), shared: z.boolean().optional(),
  }),
});
export type ImageRecord = z.output<typeof ImageRecordSchema>;

const ImageManifestSchema = z.object({
  version: z.literal(1),
  client: z.string(),
  /** Note for whoever opens the folder. */
  note: z.string(),
  images: z.partialRecord(z.enum(TARGETS), ImageRecordSchema),
});
export type ImageManifest = z.output<typeof ImageManifestSchema>;

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

/**
 * The client's manifest, or undefined when there is none or it is not one this iPXE Farm wrote (torn, older, edited):
 * such a client reads as "not built", and the next build writes a good one.
 */
export async function readManifest(layout: FarmLayout, client: string): Promise<ImageManifest | undefined> {
  const file = path.join(clientOutDir(layout, client), MANIFEST_FILE);
  let text: string;
  try { text = await fsp.readFile(file, 'utf8'); } catch { return undefined; }
  const r = parseJsonRecord(text, ImageManifestSchema, file);
  return r.ok ? r.value : undefined;
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
