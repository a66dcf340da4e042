import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import { tempFarm } from '../../support/farm';
import { issueClient, initCa } from '../../../src/core/pki';
import { openFarm } from '../../../src/core/farm/handle';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ipxeFarm = (args: string[], cwd: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd });

test('qemu: usage errors exit 2 with the fix; a client without an image exits 1 naming the build command', async () => {
  const root = await tempFarm('qemucli');
  assert.equal(ipxeFarm(['qemu'], root).status, 2);
  const r = ipxeFarm(['qemu', 'dut1', '--timeout', '5'], root);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--timeout and --until need --headless/);
  const bad = ipxeFarm(['qemu', 'dut1', '--headless', '--timeout', 'soon'], root);
  assert.equal(bad.status, 2);
  const none = ipxeFarm(['qemu', 'dut1', '--headless'], root);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /^ipxe-farm: Client dut1 has no BIOS image at .*ipxe\.iso\. Build it with `ipxe-farm build dut1`/);
  const efi = ipxeFarm(['qemu', 'dut1', '--efi', '--headless', '--json'], root);
  assert.equal(efi.status, 1);
  assert.match(JSON.parse(efi.stdout).error, /no EFI image .*ipxe-efi\.img.*stock-image dut1/);
});

test('stock-image refuses a client without a certificate, and writes nothing', async () => {
  const root = await tempFarm('stockcli');
  const h = await openFarm(root);
  await initCa(h);
  await issueClient(h, 'dut1');
  const r = ipxeFarm(['stock-image', 'nobody'], root);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Client nobody has no certificate .*issue client nobody/);
  assert.equal(fs.existsSync(path.join(root, 'ipxe', 'nobody')), false);
});
