import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempFarm } from '../../support/farm';
import { farmLayout } from '../../../src/core/farm/layout';
import { readLastBoots, type BootEvent } from '../../../src/core/boot/events';

test('last boot: a /why.ipxe answer (200, words only) does not hide the refusal before it', async () => {
  const root = await tempFarm();
  const file = farmLayout(root).bootEvents;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const events: BootEvent[] = [
    { time: '2026-01-01T00:00:00Z', status: 200, path: '/boot.ipxe', client: 'dut1', profile: 'linux' },
    { time: '2026-01-01T00:01:00Z', status: 403, path: '/boot.ipxe', client: 'dut1', reason: 'revoked' },
    { time: '2026-01-01T00:01:01Z', status: 200, path: '/why.ipxe', client: 'dut1', reason: 'asked why: revoked' },
    { time: '2026-01-01T00:02:00Z', status: 200, path: '/why.ipxe?x=1', client: 'dut2', reason: 'asked why: this machine is allowed' },
  ];
  fs.writeFileSync(file, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  const last = await readLastBoots(root);
  assert.equal(last.dut1?.status, 403);
  assert.equal(last.dut1?.path, '/boot.ipxe');
  assert.equal(last.dut2, undefined, 'a machine that only asked why has not booted');
});
