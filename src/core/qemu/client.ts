import * as fs from 'node:fs';
import * as path from 'node:path';
import { FarmError, UsageError } from '../errors';
import { type Farm, farmLayout, archFacts, clientArch, type FarmHandle } from '../farm/light';

import { clientOutDir } from '../ipxe/light';
import { STOCK_IMAGE, STOCK_VARS } from '../stock';
import { BootMedium, QemuNetwork, SLIRP_HOST } from './args';
import { LaunchOptions } from './launch';

/**
 * A farm client as a QEMU boot: its image from ipxe/<client>/out, the farm's memory and accelerator settings, its
 * MAC, and networking that reaches the farm at the address its image was built for.
 */

export interface ClientBootOptions {
  efi?: boolean;
  /** Another image than the client's built one (a stock stick, a USB image). */
  image?: string;
  /** EFI variable store to start from (a stock stick needs the farm CA enrolled in it). */
  efiVars?: string;
}

const GUESTFWD_SUBNET = /^10\.0\.2\.\d{1,3}$/;

/**
 * The farm as the VM must see it. 10.0.2.2 is QEMU's name for the host: plain user networking reaches a farm on
 * 127.0.0.1. Any other 10.0.2.x address exists only through guestfwd: the VM is restricted to the farm's two ports,
 * relayed to 127.0.0.1 (how the tests keep every packet on loopback). A LAN address or name: plain user networking,
 * whose NAT reaches whatever the host reaches.
 */
export function farmNetwork(farm: Farm): QemuNetwork {
  const a = farm.server.address;
  if (a !== SLIRP_HOST && GUESTFWD_SUBNET.test(a)) {
    const ports = [...new Set([farm.server.httpsPort, farm.server.httpPort])];
    return { kind: 'restricted', address: a, forwards: ports.map((p) => ({ guestPort: p, hostPort: p })) };
  }
  return { kind: 'user' };
}

export function clientImage(root: string, client: string, efi: boolean): string {
  return path.join(clientOutDir(farmLayout(root), client), efi ? 'ipxe-efi.img' : 'ipxe.iso');
}

/** The stick `ipxe-farm stock-image` wrote for the client, when both files are there. */
function stockStick(root: string, client: string): { image: string; vars: string } | undefined {
  const dir = clientOutDir(farmLayout(root), client);
  const image = path.join(dir, STOCK_IMAGE);
  const vars = path.join(dir, STOCK_VARS);
  return fs.existsSync(image) && fs.existsSync(vars) ? { image, vars } : undefined;
}

function mediumFor(image: string, efi: boolean): BootMedium {
  if (efi) return { kind: 'disk', path: image };
  return image.endsWith('.iso') ? { kind: 'cdrom', path: image } : { kind: 'disk', path: image };
}

/** Launch options for `ipxe-farm qemu CLIENT`, the editor's "Boot in QEMU" and the end-to-end tests. */
export async function clientLaunchOptions(h: FarmHandle, client: string, opts: ClientBootOptions = {}): Promise<LaunchOptions> {
  const { farm, layout } = h;
  const arch = clientArch(farm, client);
  const { cpu, firmware } = archFacts(arch);
  if (opts.efi === false && firmware === 'efi' && cpu !== 'x86_64') {
    throw new UsageError(`Client ${client} is ${arch}: it boots with UEFI only.`, 'Leave out the BIOS choice, or change the client\'s arch.');
  }
  const efi = opts.efi ?? firmware === 'efi';
  let image = opts.image ? path.resolve(opts.image) : clientImage(layout.root, client, efi);
  let efiVars = opts.efiVars;
  // No image of its own (no source tree): the client's stock stick and the variable store that trusts the farm CA.
  const stock = stockStick(layout.root, client);
  if (!opts.image && efi && !fs.existsSync(image) && stock) {
    image = stock.image;
    efiVars ??= stock.vars;
  }
  if (!fs.existsSync(image)) {
    throw new FarmError(
      `Client ${client} has no ${efi ? 'EFI' : 'BIOS'} image at ${image}.`,
      opts.image ? 'Check the path given with --image.' : `Build it with \`ipxe-farm build ${client}${efi && cpu === 'x86_64' ? ' --target efi' : ''}\` (or \`ipxe-farm stock-image ${client}\` for EFI without a compiler).`,
      'ENOIMAGE',
    );
  }
  const mac = farm.clients[client]?.macs[0];
  return {
    root: layout.root,
    name: client,
    efiVars,
    spec: {
      cpu,
      firmware: efi ? 'efi' : 'bios',
      accel: farm.qemu.accel,
      memoryMiB: farm.qemu.memoryMiB,
      medium: mediumFor(image, efi),
      network: farmNetwork(farm),
      mac,
    },
  };
}
