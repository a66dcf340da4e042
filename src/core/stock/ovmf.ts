import * as fs from 'node:fs';
import { FarmError } from '../errors';
import type { CpuArch } from '../farm/light';

/** Debian's `ovmf` package: the firmware code (read-only) and the pristine variable store each run copies. */
export interface OvmfFiles {
  code: string;
  vars: string;
}

const CANDIDATES: OvmfFiles[] = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
  { code: '/usr/share/edk2/ovmf/OVMF_CODE.fd', vars: '/usr/share/edk2/ovmf/OVMF_VARS.fd' },
];

/** Debian's `qemu-efi-aarch64`: AAVMF, whose pristine variable store is 64 MiB of zeros (see efiVars formatStore). */
const ARM64_CANDIDATES: OvmfFiles[] = [
  { code: '/usr/share/AAVMF/AAVMF_CODE.fd', vars: '/usr/share/AAVMF/AAVMF_VARS.fd' },
  { code: '/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw', vars: '/usr/share/edk2/aarch64/vars-template-pflash.raw' },
];

export function findOvmf(cpu: CpuArch = 'x86_64'): OvmfFiles | undefined {
  return (cpu === 'arm64' ? ARM64_CANDIDATES : CANDIDATES).find((c) => fs.existsSync(c.code) && fs.existsSync(c.vars));
}

export function requireOvmf(cpu: CpuArch = 'x86_64'): OvmfFiles {
  const f = findOvmf(cpu);
  if (f) return f;
  if (cpu === 'arm64') throw new FarmError('AAVMF (UEFI firmware for arm64 QEMU guests) is not installed.', 'Install it with: sudo apt-get install qemu-efi-aarch64', 'ENOPROGRAM');
  throw new FarmError('OVMF (UEFI firmware for QEMU) is not installed.', 'Install it with: sudo apt-get install ovmf', 'ENOPROGRAM');
}
