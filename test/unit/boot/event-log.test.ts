import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BootEventLog, type BootEvent } from '../../../src/core/boot/events';
import { FarmError } from '../../../src/core/errors';

const ev = (i: number): BootEvent => ({ time: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`, status: 200, path: '/boot.ipxe', client: `dut${i}`, profile: 'p' });
const turn = () => new Promise((r) => setImmediate(r));
const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as BootEvent);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'event-log-'));

test('events are on disk once the event-loop turn that answered them ends, and close() writes the rest in order', async () => {
  const file = path.join(tmp(), 'boot-events.jsonl');
  const log = new BootEventLog(file);
  log.open();
  log.append(ev(1));
  log.append(ev(2));
  assert.equal(fs.readFileSync(file, 'utf8'), '', 'written per turn, not per event');
  await turn();
  assert.deepEqual(lines(file).map((e) => e.client), ['dut1', 'dut2']);
  // A normal stop: events appended in the same turn as close() are not lost.
  log.append(ev(3));
  log.append(ev(4));
  log.close();
  assert.deepEqual(lines(file).map((e) => e.client), ['dut1', 'dut2', 'dut3', 'dut4']);
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);
});

test('a write that fails (full disk) is reported once, never thrown, and the log recovers when writing works again', async () => {
  if (!fs.existsSync('/dev/full')) return;
  const reports: { code?: string; lost: number }[] = [];
  const full = new BootEventLog('/dev/full', { onWriteError: (err, lost) => reports.push({ code: err?.code, lost }) });
  full.open();
  for (let i = 0; i < 5; i++) { full.append(ev(i)); await turn(); }
  assert.doesNotThrow(() => full.close());
  assert.deepEqual(reports, [{ code: 'ENOSPC', lost: 1 }], 'one report for the whole failing streak');
  assert.equal(full.lost, 5);

  // A log whose folder vanished: failing while it is gone, written again (and the loss reported) once it is back.
  const dir = path.join(tmp(), 'gone');
  const file = path.join(dir, 'boot-events.jsonl');
  const got: { code?: string; lost: number }[] = [];
  const log = new BootEventLog(file, { onWriteError: (err, lost) => got.push({ code: err?.code, lost }) });
  log.append(ev(1));
  log.append(ev(2));
  await turn();
  assert.deepEqual(got, [{ code: 'ENOENT', lost: 2 }]);
  fs.mkdirSync(dir);
  log.append(ev(3));
  await turn();
  assert.deepEqual(got[1], { code: undefined, lost: 2 });
  assert.deepEqual(lines(file).map((e) => e.client), ['dut3']);
  log.close();
});

test('a log the service cannot open stops it at start with one sentence naming the file', () => {
  const file = path.join(tmp(), 'no-such-folder', 'boot-events.jsonl');
  assert.throws(() => new BootEventLog(file).open(), (err: unknown) => err instanceof FarmError && err.sentence.includes(file) && /ENOENT/.test(err.sentence) && /write access/.test(err.sentence));
});
