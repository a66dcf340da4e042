/**
 * A client's architecture: the CPU its kernel is built for and the firmware that starts iPXE. Everything that differs
 * between boards (QEMU machine, firmware files, the EFI boot file name, Debian's binaries, the serial console's name)
 * is decided here, once, from this value.
 */

/** riscv64-efi is left out until it boots here (U-Boot's UEFI under qemu-system-riscv64; see README). */
export const CLIENT_ARCHES = ['x86_64-bios', 'x86_64-efi', 'arm64-efi'] as const;
export type ClientArch = (typeof CLIENT_ARCHES)[number];

export const CPU_ARCHES = ['x86_64', 'arm64'] as const;
export type CpuArch = (typeof CPU_ARCHES)[number];

export interface ArchFacts {
  cpu: CpuArch;
  firmware: 'bios' | 'efi';
  /** The removable-media boot file UEFI looks for on a FAT stick. */
  efiBootFile?: string;
  /** Debian's architecture name (packages, kernel flavour). */
  debian: string;
  /** The kernel's name for the first serial port, where the console and the test initramfs's marker go. */
  serialTty: string;
}

const FACTS: Record<ClientArch, ArchFacts> = {
  'x86_64-bios': { cpu: 'x86_64', firmware: 'bios', debian: 'amd64', serialTty: 'ttyS0' },
  'x86_64-efi': { cpu: 'x86_64', firmware: 'efi', efiBootFile: 'BOOTX64.EFI', debian: 'amd64', serialTty: 'ttyS0' },
  'arm64-efi': { cpu: 'arm64', firmware: 'efi', efiBootFile: 'BOOTAA64.EFI', debian: 'arm64', serialTty: 'ttyAMA0' },
};

export function archFacts(arch: ClientArch): ArchFacts {
  return FACTS[arch];
}

/** Debian's architecture name for a CPU (amd64 for x86_64). */
export function debianArch(cpu: CpuArch): string {
  return cpu === 'x86_64' ? 'amd64' : cpu;
}

/**
 * A client's architecture. Without `arch` in the farm file a client is the x86_64 machine every farm had before
 * architectures existed, with the firmware of /qemu/firmware: old farm files keep booting as they did.
 */
/** The farm's part this reads, named structurally so that the farm model can import these types without a circle. */
export interface ArchSource {
  clients: Record<string, { arch?: ClientArch } | undefined>;
  qemu: { firmware: 'bios' | 'efi' };
}

export function clientArch(farm: ArchSource, client: string): ClientArch {
  return farm.clients[client]?.arch ?? (farm.qemu.firmware === 'efi' ? 'x86_64-efi' : 'x86_64-bios');
}

export function isClientArch(v: string): v is ClientArch {
  return (CLIENT_ARCHES as readonly string[]).includes(v);
}
