import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clientLaunchOptions, farmNetwork } from '../../../src/core/qemu/client';
import { updateFarm } from '../../../src/core/farm/load';
import { farmLayout } from '../../../src/core/farm/layout';
import { clientOutDir } from '../../../src/core/ipxe/manifest';
import { STOCK_IMAGE, STOCK_VARS } from '../../../src/core/stock/image';
import { tempFarm } from '../../support/farm';
import { starterFarm } from '../../../src/core/farm/model';
import { openFarm } from '../../../src/core/farm/handle';

const farmAt = (address: string, httpsPort = 8443, httpPort = 8080) => {
  const f = starterFarm('lab');
  f.server = { ...f.server, address, httpsPort, httpPort };
  return f;
};

test('a farm at 10.0.2.2 (QEMU\'s name for this host) boots with plain user networking', () => {
  assert.deepEqual(farmNetwork(farmAt('10.0.2.2')), { kind: 'user' });
});

test('any other 10.0.2.x farm address is reached only through guestfwd to 127.0.0.1, both ports, VM restricted', () => {
  assert.deepEqual(farmNetwork(farmAt('10.0.2.100', 40443, 40080)), {
    kind: 'restricted', address: '10.0.2.100',
    forwards: [{ guestPort: 40443, hostPort: 40443 }, { guestPort: 40080, hostPort: 40080 }],
  });
  const same = farmNetwork(farmAt('10.0.2.100', 5000, 5000));
  assert.equal(same.kind === 'restricted' && same.forwards.length, 1, 'one forward when both services share a port');
});

test('a LAN address or a name goes through user networking\'s NAT, as a board on the network would', () => {
  assert.deepEqual(farmNetwork(farmAt('192.168.1.10')), { kind: 'user' });
  assert.deepEqual(farmNetwork(farmAt('boot.lab.example')), { kind: 'user' });
});

test('an arm64 client boots as an aarch64 EFI guest from its stock stick and CA-trusting variable store; BIOS is refused', async () => {
  const root = await tempFarm('arch');
  await updateFarm(root, (raw) => {
    raw.profiles = { linux: { arches: { arm64: { kernel: 'arm64/vmlinuz' } } } };
    raw.clients = { board: { arch: 'arm64-efi', profile: 'linux', macs: ['52:54:00:00:00:42'] } };
  });
  await assert.rejects(clientLaunchOptions(await openFarm(root), 'board'), /no EFI image/);
  const out = clientOutDir(farmLayout(root), 'board');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, STOCK_IMAGE), '');
  fs.writeFileSync(path.join(out, STOCK_VARS), '');
  const o = await clientLaunchOptions(await openFarm(root), 'board');
  assert.equal(o.spec.cpu, 'arm64');
  assert.equal(o.spec.firmware, 'efi');
  assert.deepEqual(o.spec.medium, { kind: 'disk', path: path.join(out, STOCK_IMAGE) });
  assert.equal(o.efiVars, path.join(out, STOCK_VARS));
  assert.equal(o.spec.mac, '52:54:00:00:00:42');
  await assert.rejects(clientLaunchOptions(await openFarm(root), 'board', { efi: false }), /UEFI only/);
});
