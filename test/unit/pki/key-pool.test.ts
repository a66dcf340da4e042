import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { fillKeyPool, initCa, issueClient, keyPoolSettled, keyPoolStatus, pkiPaths, readPkiIndex, renew } from '../../../src/core/pki';
import { checkLeafKey } from '../../../src/core/pki/keyPool';
import { serialiseIndex } from '../../../src/core/pki/store';
import { parseIndex } from '../../../src/core/pki/indexRead';
import { tempFarm } from '../../support/farm';
import { says } from '../../support/pki';
import { openFarm } from '../../../src/core/farm/handle';

const rsaPem = (bits: number, e = 65537, type: 'pkcs1' | 'pkcs8' = 'pkcs1') =>
  generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: e }).privateKey.export({ type, format: 'pem' }) as string;

function spares(root: string): Map<string, string> {
  const dir = pkiPaths(farmLayout(root)).spareDir;
  return new Map((existsSync(dir) ? readdirSync(dir) : []).map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
}

async function farmWithCa(): Promise<string> {
  const root = await tempFarm();
  await initCa(await openFarm(root));
  return root;
}

/** Everything written to stdout, stderr or the console while `fn` runs. */
async function output(fn: () => Promise<unknown>): Promise<string> {
  let said = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const saved = { log: console.log, warn: console.warn, error: console.error, info: console.info, debug: console.debug };
  const grab = (chunk: unknown) => { said += String(chunk); return true; };
  process.stdout.write = grab as typeof process.stdout.write;
  process.stderr.write = grab as typeof process.stderr.write;
  for (const k of Object.keys(saved) as Array<keyof typeof saved>) console[k] = (...a: unknown[]) => { said += a.join(' '); };
  try { await fn(); } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    Object.assign(console, saved);
  }
  return said;
}

test('checkLeafKey takes only RSA 2048, e 65537, in our PKCS#1 form', () => {
  assert.ok(checkLeafKey(rsaPem(2048)));
  assert.equal(checkLeafKey(rsaPem(1024)), undefined, 'wrong size');
  assert.equal(checkLeafKey(rsaPem(2048, 3)), undefined, 'wrong exponent');
  assert.equal(checkLeafKey(rsaPem(2048, 65537, 'pkcs8')), undefined, 'not the form this farm writes');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
  assert.equal(checkLeafKey(ec), undefined, 'not RSA');
  assert.equal(checkLeafKey('-----BEGIN RSA PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END RSA PRIVATE KEY-----\n'), undefined, 'garbage');
  assert.equal(checkLeafKey(''), undefined);
});

test('fillKeyPool: RSA-2048 spares, 0600 files in a 0700 folder; an issuance takes one, which then leaves the pool', async () => {
  const root = await farmWithCa();
  const p = pkiPaths(farmLayout(root));
  const st = await fillKeyPool(await openFarm(root), { target: 3 });
  assert.deepEqual({ count: st.count, added: st.added, discarded: st.discarded }, { count: 3, added: 3, discarded: 0 });
  assert.equal(statSync(p.spareDir).mode & 0o777, 0o700);
  const before = spares(root);
  assert.equal(before.size, 3);
  for (const [f, pem] of before) {
    assert.equal(statSync(path.join(p.spareDir, f)).mode & 0o777, 0o600, f);
    assert.ok(checkLeafKey(pem), `${f} is a leaf key`);
  }
  // Temp files of a fill killed halfway go on the next fill; those of a live process stay.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const deadTemp = path.join(p.spareDir, `.${'a'.repeat(32)}.key.${dead}.deadbeef.tmp`);
  const liveTemp = path.join(p.spareDir, `.${'b'.repeat(32)}.key.${process.pid}.deadbeef.tmp`);
  writeFileSync(deadTemp, 'half a key', { mode: 0o600 });
  writeFileSync(liveTemp, 'being written', { mode: 0o600 });
  assert.equal((await fillKeyPool(await openFarm(root), { target: 3 })).added, 0, 'a full pool gets nothing more');
  assert.ok(!existsSync(deadTemp), 'a dead fill\'s temp file is removed');
  assert.ok(existsSync(liveTemp), 'a live writer\'s temp file is left alone');
  rmSync(liveTemp);

  const rec = await issueClient(await openFarm(root), 'dut1');
  const key = readFileSync(p.clientKey('dut1'), 'utf8');
  assert.ok([...before.values()].includes(key), 'the client key is one of the spares');
  assert.equal(readFileSync(path.join(p.dir, rec.keyFile!), 'utf8'), key, 'the per-serial key is that spare too');
  assert.equal(statSync(path.join(p.dir, rec.keyFile!)).mode & 0o777, 0o600);
  const after = spares(root);
  assert.equal(after.size, 2);
  assert.ok(![...after.values()].includes(key), 'a claimed spare is no longer in the pool');
  assert.equal((await keyPoolStatus(await openFarm(root))).count, 2);
  await assert.rejects(fillKeyPool(await openFarm(root), { target: 1000 }), says(/A key pool of 1000 keys is not supported\. Give a whole number from 0 to 64\./));
});

test('an empty pool: two keys race, the loser becomes a spare that the next issuance takes; renew leaves the pool alone', async () => {
  const root = await farmWithCa();
  const p = pkiPaths(farmLayout(root));
  // 'race' races whatever the load (the default races only when a core is idle for the second key).
  await issueClient(await openFarm(root), 'dut1', { keys: 'race' });
  await keyPoolSettled();
  const loser = [...spares(root).values()];
  assert.equal(loser.length, 1, 'the race loser is in the pool');
  assert.notEqual(loser[0], readFileSync(p.clientKey('dut1'), 'utf8'));
  await renew(await openFarm(root), 'dut1');
  await keyPoolSettled();
  assert.deepEqual([...spares(root).values()], loser, 'renew neither takes nor adds spares');
  await issueClient(await openFarm(root), 'dut2');
  assert.equal(readFileSync(p.clientKey('dut2'), 'utf8'), loser[0]);
  assert.equal(spares(root).size, 0);
  await keyPoolSettled();
});

test('tampered or foreign spares (garbage, RSA 1024, EC, PKCS#8, e=3, 0644, a symlink) are deleted and a fresh key is made, silently', async () => {
  const root = await farmWithCa();
  const p = pkiPaths(farmLayout(root));
  mkdirSync(p.spareDir, { recursive: true, mode: 0o700 });
  const outside = path.join(root, 'outside.key');
  writeFileSync(outside, rsaPem(2048), { mode: 0o600 });
  const planted: Record<string, string> = {
    garbage: 'not a key at all\n',
    small: rsaPem(1024),
    ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string,
    pkcs8: rsaPem(2048, 65537, 'pkcs8'),
    e3: rsaPem(2048, 3),
    open: rsaPem(2048),
  };
  const names = Object.keys(planted).map((k, i) => `${String(i).padStart(32, '0')}.key`);
  Object.values(planted).forEach((pem, i) => writeFileSync(path.join(p.spareDir, names[i]!), pem, { mode: 0o600 }));
  chmodSync(path.join(p.spareDir, names[5]!), 0o644); // readable by others: it may have leaked
  symlinkSync(outside, path.join(p.spareDir, `${'f'.repeat(32)}.key`));
  assert.equal((await keyPoolStatus(await openFarm(root))).count, 0, 'none of them counts as a spare');

  let key = '';
  const said = await output(async () => {
    await issueClient(await openFarm(root), 'dut1');
    key = readFileSync(p.clientKey('dut1'), 'utf8');
    await keyPoolSettled();
  });
  assert.equal(said, '', 'nothing is logged');
  assert.ok(checkLeafKey(key), 'the client got a proper fresh key');
  assert.ok(![...Object.values(planted), readFileSync(outside, 'utf8')].includes(key), 'not one of the planted keys');
  const left = spares(root);
  assert.ok(left.size <= 1, 'at most the race loser is in the pool now (there is none when the load ruled the race out)');
  for (const pem of left.values()) assert.ok(checkLeafKey(pem));
  assert.ok(existsSync(outside), 'the symlink went, not the file it pointed at');
  const index = await readPkiIndex(root);
  assert.deepEqual(index.records.map((r) => r.name), ['root', 'dut1']);
  assert.deepEqual(readdirSync(p.privateSerialsDir).sort(), ['01.key', '02.key'], 'no discarded key stays behind at a serial');
});

test('the index of a plain issuance: records copied byte for byte from the file read; a hand-formatted index is rewritten whole', async () => {
  const root = await farmWithCa();
  const p = pkiPaths(farmLayout(root));
  await fillKeyPool(await openFarm(root), { target: 2 });
  await issueClient(await openFarm(root), 'dut1');
  await issueClient(await openFarm(root), 'dut2');
  let text = readFileSync(p.index, 'utf8');
  assert.equal(text, serialiseIndex(parseIndex(text, p.index)), 'the canonical layout, one record per line');
  // Pretty-printed by hand: not our layout, so the records are serialised again, and nothing is lost.
  writeFileSync(p.index, JSON.stringify(parseIndex(text, p.index), null, 2));
  await issueClient(await openFarm(root), 'dut3');
  text = readFileSync(p.index, 'utf8');
  const index = parseIndex(text, p.index);
  assert.deepEqual(index.records.map((r) => r.name), ['root', 'dut1', 'dut2', 'dut3']);
  assert.equal(text, serialiseIndex(index));
  assert.equal(index.nextSerial, '05');
  await keyPoolSettled();
});
