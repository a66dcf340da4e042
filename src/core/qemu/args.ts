import { FarmError } from '../errors';
import type { CpuArch } from '../farm/light';

/**
 * The qemu-system-x86_64 command line for one test boot, as pure data: launch.ts runs it, tests read it, and the
 * benchmark compares it with the one a person would type (DESIGN.md §5).
 */

/** QEMU user networking's own subnet: the guest is 10.0.2.15, the host 10.0.2.2, guestfwd addresses live here too. */
export const SLIRP_HOST = '10.0.2.2';
const SLIRP_NET = /^10\.0\.2\.(\d{1,3})$/;

export interface GuestForward {
  /** Guest-side address of this forward when not the network's `address` (a second name for the same farm). */
  address?: string;
  /** Port the guest connects to at `address`. */
  guestPort: number;
  /** Port on 127.0.0.1 the connection is relayed to. */
  hostPort: number;
}

export type QemuNetwork =
  /** Plain user networking: the host (and so a farm listening on it) is 10.0.2.2, and the guest may reach beyond. */
  | { kind: 'user' }
  /**
   * `restrict=on`: the guest reaches nothing but the forwards, each relayed to 127.0.0.1 by socat (a `tcp:` target
   * would serve one connection only). Tests always use this, so no packet leaves loopback.
   */
  | { kind: 'restricted'; address: string; forwards: GuestForward[] }
  | { kind: 'none' };

export type BootMedium =
  | { kind: 'cdrom'; path: string }
  /** A raw disk image: a USB-style iPXE image, or a FAT image holding EFI/BOOT/BOOTX64.EFI. */
  | { kind: 'disk'; path: string }
  /** Direct kernel boot: a stock ipxe.lkrn with its script as initrd, or the test kernel itself. */
  | { kind: 'kernel'; kernel: string; initrd?: string; append?: string };

export interface QemuSpec {
  /** The guest's CPU (default x86_64): decides the QEMU program, machine and firmware files. */
  cpu?: CpuArch;
  firmware: 'bios' | 'efi';
  accel: 'kvm' | 'tcg';
  memoryMiB: number;
  medium: BootMedium;
  network: QemuNetwork;
  /** OVMF firmware: code (read-only) and this run's own copy of the variable store. */
  ovmf?: { code: string; vars: string };
  /** Same MAC on every run, so a farm's client→MAC mapping matches the VM. */
  mac?: string;
}

export const QEMU_PROGRAM = 'qemu-system-x86_64';

/** Per guest CPU: the QEMU program and the machine options it needs (x86_64's defaults need none). */
const MACHINES: Record<CpuArch, { program: string; machine: string[] }> = {
  x86_64: { program: QEMU_PROGRAM, machine: [] },
  // `virt` with -cpu max, as Debian's AAVMF expects; UEFI only (no BIOS on arm64).
  arm64: { program: 'qemu-system-aarch64', machine: ['-M', 'virt', '-cpu', 'max'] },
};

export function qemuProgram(cpu: CpuArch = 'x86_64'): string {
  return MACHINES[cpu].program;
}

function checkPort(p: number, what: string): void {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new FarmError(`${what} ${p} is not a TCP port.`, 'Use a port between 1 and 65535.', 'EBADVALUE');
}

/** QEMU option values are comma-separated: a comma inside a path is written twice. */
const optValue = (v: string) => v.replace(/,/g, ',,');

/** `-netdev` value. */
export function netdevArg(net: QemuNetwork): string | undefined {
  if (net.kind === 'none') return undefined;
  if (net.kind === 'user') return 'user,id=n0';
  const checkAddress = (address: string) => {
    const m = SLIRP_NET.exec(address);
    if (!m || Number(m[1]) < 3 || Number(m[1]) > 254 || address === '10.0.2.15') {
      throw new FarmError(
        `The guest-side farm address ${address} is outside QEMU's user network (10.0.2.3–10.0.2.254, not 10.0.2.15).`,
        'Use an address such as 10.0.2.100 for restricted networking and put it in the server certificate.',
        'EBADVALUE',
      );
    }
  };
  checkAddress(net.address);
  if (net.forwards.length === 0) throw new FarmError('Restricted QEMU networking needs at least one port to forward.', 'Forward the farm\'s HTTPS (and HTTP) port.', 'EBADVALUE');
  const parts = ['user', 'id=n0', 'restrict=on'];
  for (const f of net.forwards) {
    checkPort(f.guestPort, 'Guest port');
    checkPort(f.hostPort, 'Host port');
    if (f.address) checkAddress(f.address);
    parts.push(`guestfwd=tcp:${f.address ?? net.address}:${f.guestPort}-cmd:socat STDIO TCP:127.0.0.1:${f.hostPort}`);
  }
  return parts.join(',');
}

export function qemuArgs(spec: QemuSpec): string[] {
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 64) {
    throw new FarmError(`QEMU memory ${spec.memoryMiB} MiB is too small for iPXE and Linux.`, 'Give the VM at least 256 MiB (512 is the default).', 'EBADVALUE');
  }
  const cpu = spec.cpu ?? 'x86_64';
  if (cpu !== 'x86_64' && spec.firmware !== 'efi') {
    throw new FarmError(`An ${cpu} guest boots with UEFI only.`, `Give the client the ${cpu}-efi architecture.`, 'EBADVALUE');
  }
  if (cpu !== 'x86_64' && spec.medium.kind === 'cdrom') {
    throw new FarmError(`An ${cpu} guest boots from an EFI stick, not an ISO.`, 'Build or assemble its EFI image.', 'EBADVALUE');
  }
  const args = [...MACHINES[cpu].machine, '-accel', spec.accel, '-m', String(spec.memoryMiB), '-nographic', '-no-reboot'];
  if (spec.firmware === 'efi') {
    if (!spec.ovmf) throw new FarmError(`An EFI boot needs ${cpu === 'arm64' ? 'AAVMF' : 'OVMF'} firmware.`, `Install it with: sudo apt-get install ${cpu === 'arm64' ? 'qemu-efi-aarch64' : 'ovmf'}`, 'ENOPROGRAM');
    args.push(
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${optValue(spec.ovmf.code)}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${optValue(spec.ovmf.vars)}`,
    );
  }
  const med = spec.medium;
  if (med.kind === 'cdrom') args.push('-cdrom', med.path, '-boot', 'd');
  // bootindex=0: OVMF would otherwise try PXE/HTTP boot on the NIC first and wait out its timeouts.
  // The arm64 `virt` machine has no IDE: its disk is virtio.
  else if (med.kind === 'disk') args.push('-drive', `if=none,id=boot0,format=raw,file=${optValue(med.path)}`, '-device', `${cpu === 'x86_64' ? 'ide-hd' : 'virtio-blk-pci'},drive=boot0,bootindex=0`);
  else {
    args.push('-kernel', med.kernel);
    if (med.initrd) args.push('-initrd', med.initrd);
    if (med.append) args.push('-append', med.append);
  }
  const netdev = netdevArg(spec.network);
  if (netdev) {
    // romfile= keeps QEMU's own iPXE option ROM out: the image under test is the only iPXE in the VM.
    const mac = spec.mac ? `,mac=${spec.mac}` : '';
    args.push('-netdev', netdev, '-device', `virtio-net-pci,netdev=n0,romfile=${mac}`);
  } else {
    args.push('-nic', 'none');
  }
  return args;
}

/** The command as one shell line, for logs and for "run it yourself" hints (paths quoted only where needed). */
export function shellLine(program: string, args: string[]): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [program, ...args].map(q).join(' ');
}
