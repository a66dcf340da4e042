import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';

/**
 * A stock iPXE has no imgverify (DESIGN.md §6), so the served script pins what it downloaded by SHA-256 instead:
 * `sha256sum --set` + `iseq` per image, stopping before `boot` on a mismatch. The names are the ones the boot
 * script gives the images (`kernel`, `initrd0`, …). The last lines free the scripts themselves: on EFI a stray image
 * would reach Linux as one more initrd.
 */
export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await fsp.readFile(file)).digest('hex');
}

export function sha256PinLines(images: Array<{ name: string; sha256: string; what: string }>): string[] {
  const lines: string[] = [];
  for (const { name, sha256, what } of images) {
    if (!/^[0-9a-f]{64}$/.test(sha256) || !/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`not a SHA-256 pin: ${name} ${sha256}`);
    lines.push(
      `sha256sum --set farm_sum ${name}`,
      `iseq \${farm_sum} ${sha256} || echo iPXE Farm: ${what} does not have the pinned SHA-256, not booting`,
      `iseq \${farm_sum} ${sha256} || exit 1`,
    );
  }
  return [...lines, 'imgfree autoexec.ipxe ||', 'imgfree boot.ipxe ||'];
}
