import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initFarm } from '../../../src/core/farm/init';
import { loadFarm } from '../../../src/core/farm/load';
import { getSetting, setSetting } from '../../../src/core/farm/settings';
import { FarmError } from '../../../src/core/errors';

const schema = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', '..', 'schemas', 'ipxe-farm.schema.json'), 'utf8'));

test('the DHCP settings are in the schema (the editor completes them) with the validator\'s defaults', async () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'farm-dhcp-')), 'lab');
  await initFarm(dir);
  const { farm } = await loadFarm(dir);
  for (const key of ['proxyDhcp', 'fastDhcpRetry']) {
    const prop = schema.properties.ipxe.properties[key];
    assert.equal(prop?.type, 'boolean', key);
    assert.equal(prop.default, getSetting(farm, `ipxe.${key}`), `${key}: schema default = validator default`);
  }
  assert.equal(farm.ipxe.proxyDhcp, false);
  assert.equal(farm.ipxe.fastDhcpRetry, true);
});

test('config set ipxe.proxyDhcp writes a boolean; anything else is refused and the file stays as it was', async () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'farm-dhcp-')), 'lab');
  await initFarm(dir);
  const { farm } = await setSetting(dir, 'ipxe.proxyDhcp', true);
  assert.equal(farm.ipxe.proxyDhcp, true);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8')).ipxe.proxyDhcp, true);
  const text = readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8');
  await assert.rejects(setSetting(dir, 'ipxe.proxyDhcp', 'yes'), (e: unknown) => e instanceof FarmError && /proxyDhcp must be true or false/.test(e.message));
  await assert.rejects(setSetting(dir, 'ipxe.fastDhcpRetry', 0), (e: unknown) => e instanceof FarmError && /fastDhcpRetry must be true or false/.test(e.message));
  assert.equal(readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8'), text);
  assert.equal((await setSetting(dir, 'ipxe.proxyDhcp', undefined)).farm.ipxe.proxyDhcp, false, 'unset: back to the default');
});
