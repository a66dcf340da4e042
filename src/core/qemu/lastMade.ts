import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as z from 'zod';
import { farmLayout } from '../farm/light';
import { parseJsonRecord } from '../fs/light';
import { clientOutDir, readManifest } from '../ipxe/light';
import type { ClientBootOptions } from '../qemu/client';
import { STOCK_RECORD } from '../stock';

/** The part of stock.json (written by `stock-image`, stock/image.ts) that says what to boot. */
const StockRecordSchema = z.object({ image: z.string().min(1), vars: z.string().min(1), builtAt: z.string().min(1) });

/**
 * The client's stock EFI stick and its variable store, as `stock-image` last wrote them; undefined when there is none,
 * or when the record is not one stock-image wrote (then the client boots what else was made for it).
 */
export async function readStockStick(root: string, client: string): Promise<{ image: string; vars: string; builtAt: string } | undefined> {
  const file = path.join(clientOutDir(farmLayout(root), client), STOCK_RECORD);
  let text: string;
  try { text = await fsp.readFile(file, 'utf8'); } catch { return undefined; }
  const r = parseJsonRecord(text, StockRecordSchema, file);
  return r.ok ? r.value : undefined;
}

/**
 * What to boot for a client when nobody names an image: whatever was made for it last. A built EFI image boots under
 * OVMF, a USB image as a disk, an ISO as a CD-ROM; a stock stick under OVMF with the variable store that trusts the
 * farm CA. Nothing made yet: the farm's qemu.firmware decides (clientLaunchOptions).
 */
export async function lastMadeImage(root: string, client: string): Promise<ClientBootOptions> {
  const manifest = await readManifest(farmLayout(root), client).catch(() => undefined);
  const built = Object.values(manifest?.images ?? {}).filter((r) => r !== undefined).sort((a, b) => b!.builtAt.localeCompare(a!.builtAt))[0];
  const stock = await readStockStick(root, client);
  if (stock && (!built || stock.builtAt > built.builtAt)) return { efi: true, image: stock.image, efiVars: stock.vars };
  if (!built) return {};
  if (built.target === 'efi') return { efi: true };
  if (built.target === 'usb') return { efi: false, image: path.join(clientOutDir(farmLayout(root), client), built.files[0]!.name) };
  return { efi: false };
}
