import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tempFarm } from '../../support/farm';
import { farmLayout } from '../../../src/core/farm/layout';
import { pkiPaths } from '../../../src/core/pki/paths';
import { readIndexFile } from '../../../src/core/pki/indexRead';
import { selectBoot } from '../../../src/core/boot/select';
import { BootStateReloader, loadBootState } from '../../../src/core/boot/state';
import { bootFarm, FP1, FP2, record, writeIndex } from './fixtures';

// Issue 14: one reader of the PKI index for the CA and the boot service, with one rule: an index with a record of the
// wrong shape is refused whole. The CA will not write over it, and the boot service refuses every certificate with the
// reason instead of guessing (a status it does not know is not "not revoked") or keeping an older index.

const BAD: Array<[string, Record<string, unknown>, RegExp]> = [
  ['a status in capitals', { status: 'Revoked' }, /\/records\/1\/status/],
  ['no fingerprint', { sha1: undefined }, /\/records\/1\/sha1/],
  ['a fingerprint with colons', { sha1: 'AA:'.repeat(19) + 'AA' }, /\/records\/1\/sha1/],
  ['a serial with a leading 00', { serial: '001B' }, /\/records\/1\/serial/],
  ['an unknown kind', { kind: 'admin' }, /\/records\/1\/kind/],
];

test('the CA and the boot service refuse the same malformed index, naming the record and field', async () => {
  for (const [what, over, where] of BAD) {
    const root = await tempFarm();
    await bootFarm(root);
    writeIndex(root, [record('dut1', '1A', FP1), { ...record('dut2', '1B', FP2), ...over } as ReturnType<typeof record>]);
    await assert.rejects(readIndexFile(pkiPaths(farmLayout(root)).index), (e: Error) => /is not an iPXE Farm index/.test(e.message) && where.test(e.message), what);
    const s = await loadBootState(root);
    assert.match(s.certs.problem ?? '', /PKI index/, what);
    for (const fingerprint of [FP1, FP2]) {
      const d = selectBoot(s.farm, s.certs, { verify: 'SUCCESS', fingerprint });
      assert.ok(!d.ok && /PKI index cannot be read/.test(d.reason), `${what}: ${fingerprint} is refused`);
    }
  }
});

test('a version the service does not know refuses everyone; it never keeps serving the older index', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const reloader = new BootStateReloader(root, await loadBootState(root), {}, 60_000);
  await reloader.start();
  try {
    assert.ok(selectBoot(reloader.state.farm, reloader.state.certs, { verify: 'SUCCESS', fingerprint: FP1 }).ok);
    const file = pkiPaths(farmLayout(root)).index;
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"version":1', '"version":2'));
    await reloader.check();
    const d = selectBoot(reloader.state.farm, reloader.state.certs, { verify: 'SUCCESS', fingerprint: FP1 });
    assert.ok(!d.ok && /not an iPXE Farm index \(version 1\)/.test(d.reason), JSON.stringify(d));
  } finally {
    reloader.stop();
  }
});
