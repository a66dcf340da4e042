import { FarmError } from '../errors';
import type { Farm } from '../farm/light';
import { readSecrets } from '../secrets/light';
import { commandControl } from './command';
import type { PowerControl } from './driver';
import { ipmiControl } from './ipmi';
import { pdudaemonControl } from './pdudaemon';

export type { PowerControl, PowerState, PowerAction } from './driver';

/** True when the farm starts this client itself in QEMU (no power section, or driver "qemu"). */
export function isQemuPowered(farm: Farm, client: string): boolean {
  const p = farm.clients[client]?.power;
  return !p || p.driver === 'qemu';
}

export function requireClient(farm: Farm, client: string) {
  const c = farm.clients[client];
  if (!c) throw new FarmError(`There is no client "${client}" in ipxe-farm.json.`, `Add it with \`ipxe-farm client set ${client}\`, or pick one of: ${Object.keys(farm.clients).join(', ') || '(none yet)'}.`, 'ENOCLIENT');
  return c;
}

/** The power control of a real board; QEMU clients are powered by starting QEMU (the boot verdict does that). */
export async function powerFor(root: string, farm: Farm, client: string): Promise<PowerControl> {
  const c = requireClient(farm, client);
  const p = c.power;
  if (!p || p.driver === 'qemu') {
    throw new FarmError(
      `${client} is a QEMU machine: iPXE Farm powers it by starting QEMU, there is no outlet to switch.`,
      `Use \`ipxe-farm boot ${client}\` (or \`ipxe-farm qemu ${client}\`), or give it a "power" section in ipxe-farm.json.`,
      'EQEMUPOWER',
    );
  }
  switch (p.driver) {
    case 'pdudaemon': return pdudaemonControl(client, p);
    case 'command': return commandControl({ name: client, client: c }, p);
    case 'ipmi': {
      const password = (await readSecrets(root))[p.passwordSecret];
      if (password === undefined) {
        throw new FarmError(`${client}'s BMC password is the secret "${p.passwordSecret}", which is not set.`, `Set it with \`ipxe-farm secret set ${p.passwordSecret}\` (the value is read from stdin).`, 'EPOWER');
      }
      return ipmiControl(client, { host: p.host, port: p.port, user: p.user, password, cipherSuite: p.cipherSuite });
    }
  }
}
