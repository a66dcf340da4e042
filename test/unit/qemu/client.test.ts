import { test } from 'node:test';
import assert from 'node:assert/strict';
import { farmNetwork } from '../../../src/core/qemu/client';
import { starterFarm } from '../../../src/core/farm/model';

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
