import * as fsp from 'node:fs/promises';
import { archFacts, type CpuArch } from '../farm/light';
import { runOk } from '../process';

/**
 * The one builder of EFI sticks (FAT images with mtools, no root, no loop device), for the three ways a client's EFI
 * image is made: built from source (build.ts), the shared binary plus an identity script (assemble.ts), and Debian's
 * stock binary plus an identity script (stock/image.ts). An x86_64 CPU gets BOOTX64.EFI whatever its firmware, an
 * arm64 one BOOTAA64.EFI; `autoexec` (a script iPXE runs first from its own folder) goes beside it.
 */
export interface EfiStick {
  /** The iPXE EFI binary. */
  efi: string;
  cpu: CpuArch;
  /** An autoexec.ipxe to put beside the binary. */
  autoexec?: string;
  signal?: AbortSignal;
}

export function efiBootFile(cpu: CpuArch): string {
  return archFacts(cpu === 'x86_64' ? 'x86_64-efi' : 'arm64-efi').efiBootFile!;
}

/** Write the stick to `imageFile`, which must not exist yet (created 0600: it may hold the client's key). */
export async function makeEfiStick(imageFile: string, stick: EfiStick): Promise<void> {
  const { signal } = stick;
  const efiSize = (await fsp.stat(stick.efi)).size;
  // FAT16 needs a few MiB to be valid; leave room for an autoexec.ipxe or a second binary beside the boot file.
  const mib = Math.max(8, Math.ceil((efiSize * 2) / (1 << 20)) + 2);
  const handle = await fsp.open(imageFile, 'wx', 0o600);
  await handle.truncate(mib << 20);
  await handle.close();
  await runOk('mformat', ['-i', imageFile, '-v', 'IPXEFARM', '-T', String((mib << 20) / 512), '-h', '64', '-s', '32', '::'], { signal });
  await runOk('mmd', ['-i', imageFile, '::/EFI', '::/EFI/BOOT'], { signal });
  await runOk('mcopy', ['-i', imageFile, stick.efi, `::/EFI/BOOT/${efiBootFile(stick.cpu)}`], { signal });
  if (stick.autoexec) await runOk('mcopy', ['-i', imageFile, stick.autoexec, '::/EFI/BOOT/autoexec.ipxe'], { signal });
}
