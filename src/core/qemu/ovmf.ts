import * as fs from 'node:fs';
import { FarmError } from '../errors';

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

export function findOvmf(): OvmfFiles | undefined {
  return CANDIDATES.find((c) => fs.existsSync(c.code) && fs.existsSync(c.vars));
}

export function requireOvmf(): OvmfFiles {
  const f = findOvmf();
  if (!f) throw new FarmError('OVMF (UEFI firmware for QEMU) is not installed.', 'Install it with: sudo apt-get install ovmf', 'ENOPROGRAM');
  return f;
}
