import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { which } from '../../support/farm';
import { ensureTestKernel } from '../../support/kernel';
import { farmLayout } from '../../../src/core/farm/layout';
import { updateFarm } from '../../../src/core/farm/load';
import { setSecret } from '../../../src/core/secrets/store';
import { findOvmf } from '../../../src/core/qemu/ovmf';

/** The arm64 end-to-end farm: two arm64-efi clients whose profile serves Debian's arm64 kernel + busybox initramfs. */

export const ARM64_TOKEN = 'tokA-Rm64Qx27Lp';
export const ARM64_SCRIPT = { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } as const;

export function arm64Missing(): string | undefined {
  for (const tool of ['qemu-system-aarch64', 'socat', 'nginx', 'mformat', 'mcopy']) {
    if (!which(tool) && !fs.existsSync(`/usr/sbin/${tool}`)) return `SKIPPED LOUDLY: ${tool} is not installed, so an arm64 board cannot be booted here`;
  }
  return findOvmf('arm64') ? undefined : 'SKIPPED LOUDLY: AAVMF is not installed (apt-get install qemu-efi-aarch64)';
}

export async function arm64Farm(name: string): Promise<string> {
  const kernel = await ensureTestKernel('arm64');
  const root = await farmWithPki(name);
  const layout = farmLayout(root);
  fs.mkdirSync(path.join(layout.files, 'arm64'));
  fs.copyFileSync(kernel.kernel, path.join(layout.files, 'arm64', 'vmlinuz'));
  fs.copyFileSync(kernel.initrd, path.join(layout.files, 'arm64', 'initrd.gz'));
  await setSecret(root, 'token', ARM64_TOKEN);
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = {
      linux: {
        arches: { arm64: { kernel: 'arm64/vmlinuz', initrds: ['arm64/initrd.gz'], cmdline: 'console=ttyAMA0 quiet farm.token={{secret.token}} host={{client.name}}' } },
        // Stray images (the autoexec and boot scripts) would be handed to Linux as extra initrds on EFI.
        verify: false, extra: ['imgfree autoexec.ipxe ||', 'imgfree boot.ipxe ||'],
      },
    };
    raw.clients = {
      dut1: { arch: 'arm64-efi', profile: 'linux', macs: ['52:54:00:00:00:a1'], vars: {} },
      dut2: { arch: 'arm64-efi', profile: 'linux', macs: ['52:54:00:00:00:a2'], vars: {} },
    };
  });
  return root;
}
