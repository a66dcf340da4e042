import * as vscode from 'vscode';
import { FarmError } from '../../core/errors';
import { buildClientImage, BuildResult } from '../../core/ipxe/build';
import type { Farm, ImageTarget } from '../../core/farm/model';
import { withFarmProgress } from '../cancel';
import { settings } from '../settings';
import { buildStockImage } from '../../core/stock/image';
import { command, CommandContext, pickClient, refName, requireFarm } from './context';

const TARGETS: Record<ImageTarget, string> = {
  iso: 'BIOS: ISO image (CD-ROM or QEMU -cdrom)',
  efi: 'UEFI: FAT disk image with EFI/BOOT/BOOTX64.EFI (QEMU boots it under OVMF)',
  usb: 'BIOS: USB stick image',
};

/** The image kinds core builds, the farm's first target first (Enter keeps the farm's choice). */
async function pickTarget(farm: Farm): Promise<ImageTarget | undefined> {
  const order = [...new Set<ImageTarget>([...farm.ipxe.targets, 'iso', 'efi', 'usb'])];
  const picked = await vscode.window.showQuickPick(order.map((t, i) => ({ label: t, description: i === 0 ? 'farm default' : undefined, detail: TARGETS[t], target: t })), { placeHolder: 'Which image?' });
  return picked?.target;
}

/**
 * Build Image for one client or a multi-selection, under a cancellable progress notification: the make output goes
 * to the "iPXE Farm: build" log, Cancel kills make's whole process group (core's AbortSignal).
 */
export function ipxeCommands(c: CommandContext): vscode.Disposable[] {
  return [
    command(c, 'ipxeFarm.buildImage', async (arg?: unknown, all?: unknown, opts?: unknown) => {
      const loaded = await requireFarm(c);
      let names = (Array.isArray(all) && all.length ? all : [arg]).map((a) => refName(a)).filter((n): n is string => !!n);
      if (names.length === 0) {
        const picked = await pickClient(loaded, 'Build the iPXE image of…');
        if (!picked) return undefined;
        names = [picked];
      }
      const given = (opts as { target?: ImageTarget } | undefined)?.target;
      const target = given ?? await pickTarget(loaded.farm);
      if (!target) return undefined;
      const ipxeSource = settings().ipxeSource;
      const env = ipxeSource ? { ...process.env, IPXE_SRC: ipxeSource } : process.env;
      const log = c.out.build;
      const results = await withFarmProgress(names.length > 1 ? `Building ${names.length} iPXE images` : `Building the ${target} image of ${names[0]}`, async (signal, report) => {
        const done: BuildResult[] = [];
        for (const [i, name] of names.entries()) {
          if (signal.aborted) throw new FarmError(`Cancelled after ${done.length} of ${names.length} images.`, undefined, 'ECANCELED');
          const r = await buildClientImage(loaded, name, {
            signal,
            target,
            locate: { env },
            onProgress: (p) => {
              if (p.line !== undefined) log.trace(p.line);
              else { log.info(`${name}: ${p.message}`); report(`${names.length > 1 ? `${i + 1}/${names.length} ${name}: ` : ''}${p.message}`); }
            },
          });
          for (const w of r.warnings) log.warn(`${name}: ${w}`);
          log.info(`${name}: ${r.files.join(', ')} in ${(r.durationMs / 1000).toFixed(1)} s`);
          done.push(r);
          report(`${done.length}/${names.length} built`, 100 / names.length);
        }
        return done;
      });
      await c.state.refresh();
      void vscode.window.showInformationMessage(results.length === 1 ? `Built ${results[0]!.files.join(', ')}.` : `Built ${results.length} images.`);
      return results.length === 1 ? results[0] : results;
    }),
    // `ipxe-farm stock-image CLIENT`: Debian's prebuilt EFI iPXE on a stick, no compiler and no iPXE source needed.
    command(c, 'ipxeFarm.stockImage', async (arg?: unknown) => {
      const loaded = await requireFarm(c);
      const name = refName(arg) ?? await pickClient(loaded, 'Make a stock EFI stick for…');
      if (!name) return undefined;
      const log = c.out.build;
      const r = await withFarmProgress(`Making the stock EFI stick of ${name}`, async (signal, report) => buildStockImage(loaded, name, {
        signal,
        onProgress: (l) => { log.info(`${name}: ${l}`); report(l); },
      }));
      log.info(`${name}: ${r.image} (Debian iPXE ${r.ipxeVersion}) and ${r.vars} (OVMF variables with the farm CA); ▶ boots it under OVMF`);
      await c.state.refresh();
      void vscode.window.showInformationMessage(`Made ${r.image}: Debian's iPXE ${r.ipxeVersion}, no imgverify (pin kernel and initrd by SHA-256 in the profile).`);
      return r;
    }),
  ];
}
