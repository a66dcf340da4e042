import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tempFarm } from '../../support/farm';
import { farmLayout } from '../../../src/core/farm/layout';
import { clientOutDir, readManifest } from '../../../src/core/ipxe/manifest';
import { lastMadeImage, readStockStick } from '../../../src/core/qemu/lastMade';
import { STOCK_RECORD } from '../../../src/core/stock/image';
import { readSharedBaseRecord } from '../../../src/core/ipxe/shared';
import { readBootEvents } from '../../../src/core/boot/events';
import { readVerdicts, verdictsFile } from '../../../src/core/verdict/health';
import { parseContainerState } from '../../../src/core/nginx/podmanInspect';
import { readAccelCache } from '../../../src/core/qemu/accel';
import { readRunRecord, runRecordFile } from '../../../src/core/farm/runRecord';
import { parseSecrets } from '../../../src/core/secrets/store';
import { FarmError } from '../../../src/core/errors';

// Issue 14, point 2: every JSON file iPXE Farm reads besides the farm file goes through a zod definition next to its
// reader. A torn, foreign or older file is refused with one sentence, or ignored (read as absent), never used as if it
// had the fields the code goes on to read.

const write = (file: string, text: string) => { fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, text); };
const tmpFile = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'records-')), name);

test('image manifest: one whose record lacks builtAt reads as "not built", and lastMadeImage does not trip on it', async () => {
  const root = await tempFarm();
  const layout = farmLayout(root);
  const file = path.join(clientOutDir(layout, 'dut1'), 'manifest.json');
  write(file, JSON.stringify({ version: 1, client: 'dut1', note: '', images: { iso: { target: 'iso', files: 'ipxe.iso' } } }));
  assert.equal(await readManifest(layout, 'dut1'), undefined);
  assert.deepEqual(await lastMadeImage(root, 'dut1'), {});
  write(file, '{"version": 1, "images": {');
  assert.equal(await readManifest(layout, 'dut1'), undefined);
});

test('stock record: an image that is not a path is no stock stick', async () => {
  const root = await tempFarm();
  const file = path.join(clientOutDir(farmLayout(root), 'dut1'), STOCK_RECORD);
  write(file, JSON.stringify({ image: 3, vars: '/x/vars.fd', builtAt: '2026-01-01T00:00:00Z' }));
  assert.equal(await readStockStick(root, 'dut1'), undefined);
  write(file, JSON.stringify({ image: '/x/stock.img', vars: '/x/vars.fd', builtAt: '2026-01-01T00:00:00Z', extra: 1 }));
  assert.deepEqual(await readStockStick(root, 'dut1'), { image: '/x/stock.img', vars: '/x/vars.fd', builtAt: '2026-01-01T00:00:00Z' });
});

test('shared-base record: a record with a wrong field means "build again", never a reuse', async () => {
  const file = tmpFile('base.json');
  const good = { cpu: 'x86_64', kind: 'efi', scriptSha256: 'a', caSha256: 'b', configSha256: 'c', sourceId: 'd', debug: null, makeVars: [], sha256: 'e', builtAt: 't', durationMs: 1 };
  write(file, JSON.stringify(good));
  assert.deepEqual(await readSharedBaseRecord(file), good);
  write(file, JSON.stringify({ ...good, makeVars: 'CONFIG=x' }));
  assert.equal(await readSharedBaseRecord(file), undefined);
  write(file, '{"cpu":');
  assert.equal(await readSharedBaseRecord(file), undefined);
});

test('boot events: a torn line and a line of another shape are skipped; the good ones are read', async () => {
  const root = await tempFarm();
  const good = { time: '2026-01-01T00:00:00Z', status: 200, path: '/boot.ipxe', client: 'dut1' };
  write(farmLayout(root).bootEvents, `${JSON.stringify(good)}\n{"time":"2026-01-01T00:00:01Z","status":"ok"}\n["not","an","event"]\n{"time":"2026`);
  assert.deepEqual(await readBootEvents(root), [good]);
});

test('verdicts: a line without an outcome is skipped, so health never counts it', async () => {
  const root = await tempFarm();
  const good = { client: 'dut1', outcome: 'pass', reason: '', stages: { marker: 9 }, startedAt: '2026-01-01T00:00:00Z', elapsedMs: 9 };
  write(verdictsFile(root), `${JSON.stringify(good)}\n${JSON.stringify({ client: 'dut1', reason: 'x' })}\n{"client":`);
  assert.deepEqual(await readVerdicts(root), [good]);
});

test('podman inspect: output without a container, or not JSON, is refused with one sentence', () => {
  for (const [out, why] of [['[]', /did not report the container state/], ['[{"State":{"Status":3}}]', /did not report the container state/], ['Error: no such', /not JSON/]] as const) {
    assert.throws(() => parseContainerState(out), (e) => e instanceof FarmError && e.code === 'EPODMAN' && why.test(e.message));
  }
  // null labels (podman prints them for a container made without any) are no labels
  assert.deepEqual(parseContainerState('[{"State":{"Status":"created","Running":false},"Config":{"Labels":null}}]').labels, {});
});

test('accel cache: a cache of another shape (or machine) is not used: the caller probes again', async () => {
  const file = tmpFile('accel.json');
  write(file, JSON.stringify({ accel: 'kvm', reason: '', key: 'k1' }));
  assert.deepEqual(await readAccelCache(file, 'k1'), { accel: 'kvm', reason: '', key: 'k1' });
  assert.equal(await readAccelCache(file, 'k2'), undefined);
  write(file, JSON.stringify({ accel: 'hvf', reason: '', key: 'k1' }));
  assert.equal(await readAccelCache(file, 'k1'), undefined);
});

test('nginx run record: a foreign record says nothing (the farm file\'s runtime answers)', async () => {
  const root = await tempFarm();
  const layout = farmLayout(root);
  write(runRecordFile(layout), JSON.stringify({ kind: 'docker', where: 'x', startedAt: 't' }));
  assert.equal(readRunRecord(layout), undefined);
  write(runRecordFile(layout), JSON.stringify({ kind: 'local', where: '/p', startedAt: 't' }));
  assert.deepEqual(readRunRecord(layout), { kind: 'local', where: '/p', startedAt: 't' });
});

test('secrets.json: refused with a sentence that names the secret, never its value', () => {
  assert.throws(() => parseSecrets('{"version":1,"secrets":{"pw":"hunter2","n":42}}', 'f/secrets.json'), (e) => e instanceof FarmError && /Secret "n" in f\/secrets.json is not a string/.test(e.message) && !e.message.includes('hunter2'));
  assert.throws(() => parseSecrets('{"version":1,"secrets":["hunter2"]}'), (e) => e instanceof FarmError && /must hold/.test(e.message) && !e.message.includes('hunter2'));
  assert.throws(() => parseSecrets('{"secrets":{"pw":"hunter2"'), (e) => e instanceof FarmError && /not valid JSON/.test(e.message) && !e.message.includes('hunter2'));
});
