import type { ClientArch, CpuArch } from './arch';

/**
 * The farm file (`ipxe-farm.json`): everything the user decides. What the CA did lives in the PKI index, secrets live in
 * `secrets.json`; nothing here duplicates either.
 */
export const FARM_FILE = 'ipxe-farm.json';
export const FARM_VERSION = 1;

export type NginxRuntimeKind = 'podman' | 'local';
export type ImageTarget = 'iso' | 'usb' | 'efi';
export type Accel = 'auto' | 'kvm' | 'tcg';
export type Firmware = 'bios' | 'efi';

export interface CaSettings {
  commonName: string;
  organization?: string;
  country?: string;
  /** RSA modulus size of the root; iPXE handles 2048 best (small handshakes). */
  keyBits: 2048 | 3072 | 4096;
  /** Validity in days of the root, server, client and code-signing certificates. */
  caDays: number;
  serverDays: number;
  clientDays: number;
  codesignDays: number;
}

export interface ServerSettings {
  /** The address iPXE clients use to reach the farm (QEMU user networking: 10.0.2.2). */
  address: string;
  /** Every DNS name or IP the server certificate must carry; `address` is always added. */
  names: string[];
  httpsPort: number;
  httpPort: number;
}

export interface NginxSettings {
  runtime: NginxRuntimeKind;
  /** Container image for the podman runtime. */
  image: string;
  /** Container name for the podman runtime. */
  container: string;
}

export interface IpxeSettings {
  /** An iPXE source tree; empty: the per-user cache of `ref`. */
  source?: string;
  ref: string;
  targets: ImageTarget[];
  /** iPXE DEBUG= value, e.g. "tls,x509:3"; empty for none. */
  debug?: string;
  /** NTP server set before HTTPS (iPXE checks certificate validity against its clock). */
  ntp?: string;
  /** The network has a PXE/ProxyDHCP server: keep iPXE's 2 s wait for its offer (default false: no wait). */
  proxyDhcp?: boolean;
  /** Resend the first DHCPDISCOVER within 1/4 s instead of 1 s (default true; false on spanning-tree ports). */
  fastDhcpRetry?: boolean;
}

export interface QemuSettings {
  accel: Accel;
  memoryMiB: number;
  firmware: Firmware;
}

/** The kernel a profile boots on one CPU architecture (a profile's top-level kernel is its x86_64 kernel). */
export interface ArchKernel {
  kernel: string;
  initrds: string[];
  /** This architecture's command line (its console differs: ttyAMA0 on arm64); default the profile's. */
  cmdline?: string;
}

export interface Profile {
  description?: string;
  /** The x86_64 kernel: URL, or a path under files/ served over plain HTTP. Empty when the profile has none. */
  kernel: string;
  initrds: string[];
  /** Kernels for other architectures, by CPU (`arm64`). */
  arches?: Partial<Record<CpuArch, ArchKernel>>;
  /** Kernel command line template: {{client.name}}, {{client.mac}}, {{secret.NAME}}, {{server.http}}, ${ipxe}. */
  cmdline: string;
  /** Check kernel and initrds with imgverify against the farm's code-signing certificate. */
  verify: boolean;
  /** Extra iPXE lines placed before `boot` (templated like cmdline). */
  extra: string[];
  /**
   * Files iPXE adds to the initramfs, fetched once over mutual TLS with a one-time token, so secrets stay off the
   * kernel command line (where every process reads them through /proc/cmdline). Absent or empty: none.
   */
  secretFiles?: SecretFile[];
}

export interface SecretFile {
  /** Absolute path inside the initramfs, e.g. /run/secrets/minio.env. */
  path: string;
  /** The file's contents, templated like cmdline ({{secret.NAME}}, {{client.vars.NAME}}, …). */
  content: string;
  /** Octal permission bits as written in the farm file ("0600" when absent). */
  mode?: string;
}

/** Seconds a secret file's one-time URL stays valid after the script that carries it was fetched. */
export const SECRET_TTL_DEFAULT = 60;

export interface BootSettings {
  /** Seconds a secret file's one-time URL is honoured after its script was fetched (default 60). */
  secretTtl?: number;
}

export interface Client {
  description?: string;
  /** Absent: x86_64 with /qemu/firmware's firmware (see arch.ts clientArch). */
  arch?: ClientArch;
  profile?: string;
  macs: string[];
  vars: Record<string, string>;
  /** How the machine's power is switched; absent: a QEMU machine the farm starts itself. */
  power?: PowerSpec;
  /** Where its serial console is read; absent: QEMU's own serial port. */
  console?: ConsoleSpec;
}

export type PowerDriver = PowerSpec['driver'];
export type PowerSpec =
  | { driver: 'qemu' }
  /** pdudaemon's HTTP API (GET /power/control/on|off|reboot?hostname=PDU&port=OUTLET). */
  | { driver: 'pdudaemon'; host: string; port: number; pdu: string; outlet: number }
  /** A BMC over IPMI 2.0 (ipmitool -I lanplus); the password is a farm secret, handed to ipmitool in a 0600 file. */
  | { driver: 'ipmi'; host: string; port: number; user: string; passwordSecret: string; cipherSuite: number }
  /** The user's own programs (argv, no shell; {{client.name}}, {{client.mac}}, {{client.vars.X}} in arguments). */
  | { driver: 'command'; on: string[]; off: string[]; cycle?: string[]; status?: string[]; timeoutSeconds: number };

export type ConsoleDriver = ConsoleSpec['driver'];
export type ConsoleSpec =
  | { driver: 'qemu' }
  | { driver: 'serial'; device: string; baud: number }
  /** A console server such as ser2net: raw TCP, or telnet (its negotiation answered and stripped). */
  | { driver: 'tcp'; host: string; port: number; protocol: 'raw' | 'telnet' };

export const POWER_DRIVERS = ['qemu', 'pdudaemon', 'ipmi', 'command'] as const;
export const CONSOLE_DRIVERS = ['qemu', 'serial', 'tcp'] as const;

export interface Farm {
  version: typeof FARM_VERSION;
  name: string;
  ca: CaSettings;
  server: ServerSettings;
  nginx: NginxSettings;
  ipxe: IpxeSettings;
  qemu: QemuSettings;
  profiles: Record<string, Profile>;
  clients: Record<string, Client>;
  defaultProfile?: string;
  /** Where `ipxe-farm metrics` listens for Prometheus; absent: 127.0.0.1:9464 (this machine only). */
  metrics?: { listen: string };
  /** Boot service settings; absent: defaults. */
  boot?: BootSettings;
}

/** Names of clients, profiles and secrets become file names, URL parts and certificate CNs: keep them boring. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const NAME_RULE = 'use 1–63 characters: lowercase letters, digits, dot, dash or underscore, starting with a letter or digit';

export function starterFarm(name: string): Farm {
  return {
    version: FARM_VERSION,
    name,
    ca: {
      commonName: `${name} farm root CA`,
      organization: name,
      keyBits: 2048,
      caDays: 3650,
      serverDays: 825,
      clientDays: 365,
      codesignDays: 825,
    },
    server: { address: '10.0.2.2', names: ['localhost', '127.0.0.1'], httpsPort: 8443, httpPort: 8080 },
    nginx: { runtime: 'podman', image: 'docker.io/library/nginx:latest', container: `ipxe-farm-${name}` },
    ipxe: { ref: 'v2.0.0', targets: ['iso'] },
    qemu: { accel: 'auto', memoryMiB: 512, firmware: 'bios' },
    profiles: {},
    clients: {},
  };
}
