import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tempFarm } from '../../support/farm';
import { farmLayout } from '../../../src/core/farm/layout';
import { pkiPaths } from '../../../src/core/pki/paths';
import { readIndexFile } from '../../../src/core/pki/indexRead';
import { selectBoot } from '../../../src/core/boot/select';
import { BootStateReloader, loadBootState } from '../../../src/core/boot/state';
import { serialiseIndex } from '../../../src/core/pki/store';
import { recordsPrefix } from '../../../src/core/pki/indexLayout';
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

// The CA's records hash (pki/indexLayout.ts) lets a reader skip checking records a CA write vouches for; it must never
// let a hand-edited record through: any changed byte breaks the hash, and the whole index is checked again.
test('an index the CA wrote vouches for its records, and one edited by hand is checked (and refused) whole again', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const file = pkiPaths(farmLayout(root)).index;
  const index = await readIndexFile(file);
  fs.writeFileSync(file, serialiseIndex(index));
  const written = fs.readFileSync(file);
  const prefix = recordsPrefix(written);
  assert.ok(prefix?.vouched, 'the CA layout with a matching records hash');
  assert.deepEqual(await readIndexFile(file), index);

  // The hash left as it was, one record edited: no longer vouched for, and refused by the CA and the boot service.
  fs.writeFileSync(file, written.toString('utf8').replace('"status":"revoked"', '"status":"Revoked"'));
  assert.equal(recordsPrefix(fs.readFileSync(file))?.vouched, false);
  await assert.rejects(readIndexFile(file), /\/records\/2\/status/);
  const s = await loadBootState(root);
  assert.ok(!selectBoot(s.farm, s.certs, { verify: 'SUCCESS', fingerprint: FP1 }).ok);

  // A valid edit (revoked by hand) is read as edited: the hash never stands in for the bytes.
  fs.writeFileSync(file, written.toString('utf8').replace(`"sha1":"${FP1}","sha256":"${FP1.padEnd(64, '0')}","notBefore":"2020-01-01T00:00:00Z","notAfter":"2099-01-01T00:00:00Z","status":"valid"`, `"sha1":"${FP1}","sha256":"${FP1.padEnd(64, '0')}","notBefore":"2020-01-01T00:00:00Z","notAfter":"2099-01-01T00:00:00Z","status":"revoked"`));
  assert.equal((await readIndexFile(file)).records[0]!.status, 'revoked');
  const d = selectBoot((await loadBootState(root)).farm, (await loadBootState(root)).certs, { verify: 'SUCCESS', fingerprint: FP1 });
  assert.ok(!d.ok, 'revoked by hand: refused at once');

  // A record appended after the tail's fields (a duplicate "records" key JSON.parse would take) is not vouched for.
  const tampered = written.toString('utf8').replace(/\}\n$/, `,"records":[${JSON.stringify({ ...index.records[0], status: 'Revoked' })}]}\n`);
  fs.writeFileSync(file, tampered);
  assert.equal(recordsPrefix(fs.readFileSync(file)), undefined);
  await assert.rejects(readIndexFile(file), /is not an iPXE Farm index/);
});

test('the CA refuses to write (and so to vouch for) a record of the wrong shape', () => {
  const bad = { version: 1 as const, nextSerial: '99', records: [{ ...record('dut1', '1A', FP1), status: 'Revoked' } as unknown as ReturnType<typeof record>] };
  assert.throws(() => serialiseIndex(bad), /does not have the index's shape \(0\/status/);
});
