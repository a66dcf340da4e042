import type { Farm } from './schema/farm';
import { FarmSchema, FARM_VERSION } from './schema/farm';

/**
 * The farm file (`ipxe-farm.json`): everything the user decides. What the CA did lives in the PKI index, secrets live in
 * `secrets.json`; nothing here duplicates either. The types, defaults and rules come from one definition,
 * schema/farm.ts; the names below are the ones the rest of iPXE Farm reads.
 */
export const FARM_FILE = 'ipxe-farm.json';
export { FARM_VERSION };
export type { Farm, FarmFile } from './schema/farm';
export type { ArchKernel, Profile, SecretFile } from './schema/profile';
export type { ConsoleDriver, ConsoleSpec, PowerDriver, PowerSpec } from './schema/board';
export { CONSOLE_DRIVERS, POWER_DRIVERS } from './schema/board';
export { NAME_PATTERN, NAME_RULE } from './names';

export type CaSettings = Farm['ca'];
export type ServerSettings = Farm['server'];
export type NginxSettings = Farm['nginx'];
export type IpxeSettings = Farm['ipxe'];
export type QemuSettings = Farm['qemu'];
export type BootSettings = NonNullable<Farm['boot']>;
export type Client = Farm['clients'][string];
export type NginxRuntimeKind = NginxSettings['runtime'];
export type ImageTarget = IpxeSettings['targets'][number];
export type Accel = QemuSettings['accel'];
export type Firmware = QemuSettings['firmware'];

/** Seconds a secret file's one-time URL stays valid after the script that carries it was fetched. */
export const SECRET_TTL_DEFAULT = 60;

/** A new farm: every setting at its default (the schema's), the ones that follow from the name included. */
export function starterFarm(name: string): Farm {
  return FarmSchema.parse({ version: FARM_VERSION, name });
}
