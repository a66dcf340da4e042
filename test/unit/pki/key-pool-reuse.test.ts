import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { fillKeyPool, initCa, issueClient, keyPoolSettled, pkiPaths, readPkiIndex } from '../../../src/core/pki';
import { tempFarm } from '../../support/farm';
import { openFarm } from '../../../src/core/farm/handle';

// Finding 6 of issue 13: the pool took a copy or a hard link of a key it had already handed out (a restored backup of
// spare/ would give one key to two machines). Each issued key's public-key hash is in the index; a spare whose public
// key was ever issued is refused, and so is a spare with more than one link.

const spkiOf = (pem: string) => createHash('sha256').update(createPublicKey(pem).export({ type: 'spki', format: 'der' })).digest('hex');

async function farmWithOneSpare() {
  const root = await tempFarm();
  await initCa(await openFarm(root));
  await keyPoolSettled();
  const paths = pkiPaths(farmLayout(root));
  for (const n of existsSync(paths.spareDir) ? readdirSync(paths.spareDir) : []) rmSync(path.join(paths.spareDir, n));
  await fillKeyPool(await openFarm(root), { target: 1 });
  const [spare] = readdirSync(paths.spareDir);
  return { root, paths, spare: path.join(paths.spareDir, spare!) };
}

test('the index records each issued key\'s public-key hash', async () => {
  const { root, paths } = await farmWithOneSpare();
  const rec = await issueClient(await openFarm(root), 'dut1');
  await keyPoolSettled();
  const want = spkiOf(readFileSync(paths.clientKey('dut1'), 'utf8'));
  const live = (await readPkiIndex(root)).records.find((r) => r.serial === rec.serial) as unknown as Record<string, unknown>;
  assert.equal(live.publicKeySha256, want);
});

test('a restored copy of an issued spare is refused: the next machine gets another key', async () => {
  const { root, paths, spare } = await farmWithOneSpare();
  const backup = path.join(paths.privateDir, 'backup.key');
  copyFileSync(spare, backup);
  await issueClient(await openFarm(root), 'dut1');
  await keyPoolSettled();
  const dut1 = readFileSync(paths.clientKey('dut1'), 'utf8');
  assert.equal(dut1, readFileSync(backup, 'utf8'), 'dut1 took the spare');
  // The backup of spare/ comes back, under a fresh pool name.
  copyFileSync(backup, path.join(paths.spareDir, `${'ab'.repeat(16)}.key`));
  await issueClient(await openFarm(root), 'dut2');
  await keyPoolSettled();
  assert.notEqual(spkiOf(readFileSync(paths.clientKey('dut2'), 'utf8')), spkiOf(dut1), 'dut2 must not share dut1\'s key');
});

test('a hard-linked spare is refused: the other name could hand the same key out again', async () => {
  const { root, paths, spare } = await farmWithOneSpare();
  const other = path.join(paths.privateDir, 'second-name.key');
  linkSync(spare, other);
  await issueClient(await openFarm(root), 'dut1');
  await keyPoolSettled();
  assert.notEqual(spkiOf(readFileSync(paths.clientKey('dut1'), 'utf8')), spkiOf(readFileSync(other, 'utf8')), 'a key with two names is not used');
});
