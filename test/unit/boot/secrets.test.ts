import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tempFarm } from '../../support/farm';
import { farmLayout } from '../../../src/core/farm/layout';
import { listSecretNames, readSecrets, removeSecret, setSecret } from '../../../src/core/secrets/store';
import { MASK, maskSecrets } from '../../../src/core/secrets/mask';

test('secrets.json is written 0600, atomically, and read back', async () => {
  const root = await tempFarm();
  await setSecret(root, 'token', 'abc def$\n');
  await setSecret(root, 'minio', 'K002/x+y');
  const file = farmLayout(root).secrets;
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual({ ...(await readSecrets(root)) }, { minio: 'K002/x+y', token: 'abc def$' });
  assert.deepEqual(await listSecretNames(root), ['minio', 'token']);
  assert.equal(await removeSecret(root, 'token'), true);
  assert.equal(await removeSecret(root, 'token'), false);
  assert.deepEqual(Object.keys(await readSecrets(root)), ['minio']);
  assert.deepEqual(fs.readdirSync(root).filter((f) => f.includes('.tmp')), []);
});

test('a secret with an inner newline or control character is refused and nothing is written', async () => {
  const root = await tempFarm();
  await setSecret(root, 'ok', 'v1');
  const before = fs.readFileSync(farmLayout(root).secrets, 'utf8');
  await assert.rejects(setSecret(root, 'bad', 'line1\nline2'), /line break or control character/);
  await assert.rejects(setSecret(root, 'Bad Name', 'v'), /not allowed/);
  await assert.rejects(setSecret(root, 'empty', '\n'), /empty/);
  assert.equal(fs.readFileSync(farmLayout(root).secrets, 'utf8'), before);
});

test('a broken secrets.json is refused without quoting its content', async () => {
  const root = await tempFarm();
  fs.writeFileSync(farmLayout(root).secrets, '{"version":1,"secrets":{"a":"TOPSECRETVALUE"', { mode: 0o600 });
  await assert.rejects(readSecrets(root), (e: Error) => /not valid JSON/.test(e.message) && !e.message.includes('TOPSECRET'));
});

test('masking replaces every occurrence, longest first', () => {
  assert.equal(maskSecrets('a=abc b=abcdef c=abc', { s1: 'abc', s2: 'abcdef' }), `a=${MASK} b=${MASK} c=${MASK}`);
});
