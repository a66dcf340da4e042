import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initFarm } from '../../../src/core/farm/init';
import { loadFarm } from '../../../src/core/farm/load';
import { SETTABLE, setFarmSetting } from '../../../src/core/farm/settings';
import { FarmError } from '../../../src/core/errors';

const schema = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', '..', 'schemas', 'ipxe-farm.schema.json'), 'utf8'));

test('every key `ipxe-farm set` changes is in the schema (the editor completes the same keys), with the same type', () => {
  for (const [key, kind] of Object.entries(SETTABLE)) {
    const prop = key.split('.').reduce((node: any, k) => node?.properties?.[k], schema);
    assert.ok(prop, `${key} is in schemas/ipxe-farm.schema.json`);
    if (kind !== 'string' && prop.type) assert.equal(prop.type, kind, key);
  }
  assert.equal(schema.properties.ipxe.properties.proxyDhcp.default, false);
  assert.equal(schema.properties.ipxe.properties.fastDhcpRetry.default, true);
});

test('the DHCP settings default to a farm without ProxyDHCP; set writes them, refuses bad values and keeps the file', async () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'farm-set-')), 'lab');
  await initFarm(dir);
  const before = await loadFarm(dir);
  assert.equal(before.farm.ipxe.proxyDhcp, false);
  assert.equal(before.farm.ipxe.fastDhcpRetry, true);
  const r = await setFarmSetting(dir, 'ipxe.proxyDhcp', 'true');
  assert.deepEqual([r.before, r.after], [false, true]);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8')).ipxe.proxyDhcp, true);
  const text = readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8');
  await assert.rejects(setFarmSetting(dir, 'ipxe.proxyDhcp', 'yes'), (e: unknown) => e instanceof FarmError && e.code === 'EUSAGE' && /true or false/.test(e.message));
  await assert.rejects(setFarmSetting(dir, 'ipxe.nope', '1'), (e: unknown) => e instanceof FarmError && /not a farm setting/.test(e.message));
  await assert.rejects(setFarmSetting(dir, 'server.httpPort', '70000'), (e: unknown) => e instanceof FarmError && /httpPort/.test(e.message));
  assert.equal(readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8'), text, 'a refused change leaves the file as it was');
  assert.equal((await setFarmSetting(dir, 'qemu.memoryMiB', '1024')).after, 1024);
});
