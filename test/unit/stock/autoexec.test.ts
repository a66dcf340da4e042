import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stockAutoexec } from '../../../src/core/stock/image';
import { embeddedScript, SCRIPT_MARKERS } from '../../../src/core/ipxe/script';
import { parseIpxeScript } from '../boot/ipxeParse';

test('the stock stick\'s autoexec sets the identity first, then runs the farm script with its /why.ipxe fallback', () => {
  const embedded = embeddedScript({ client: 'dut1', address: '10.0.2.100', httpsPort: 8443 });
  const auto = stockAutoexec(embedded, Buffer.from([0x30, 0x82]), Buffer.from([0x30, 0x01]));
  const cmds = parseIpxeScript(auto).commands.map((c) => c.argv.join(' '));
  assert.equal(auto.split('\n')[0], '#!ipxe');
  assert.deepEqual(cmds.slice(0, 2), ['set cert 30:82', 'set privkey 30:01']);
  const boot = cmds.indexOf('chain https://10.0.2.100:8443/boot.ipxe');
  const why = cmds.indexOf('chain --autofree https://10.0.2.100:8443/why.ipxe');
  assert.ok(boot > 1 && why > boot, cmds.join('\n'));
  assert.ok(cmds.slice(boot, why).some((c) => c.startsWith(`echo ${SCRIPT_MARKERS.askingWhy}`)));
  assert.ok(cmds.slice(why).some((c) => c.startsWith(`echo ${SCRIPT_MARKERS.fetchFailed}`)), 'the decode hint stays for when /why.ipxe fails too');
});
