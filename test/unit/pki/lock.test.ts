import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withPkiLock } from '../../../src/core/pki/lock';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'pki-lock-'));
/** The pid of a process that has certainly exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('a lock left by a dead process is taken over, and the caller is told so', async () => {
  const d = dir();
  writeFileSync(path.join(d, '.lock'), JSON.stringify({ pid: deadPid(), host: os.hostname(), at: Date.now(), token: 'x' }));
  const tookOver = await withPkiLock(d, async (took) => took, 2000);
  assert.equal(tookOver, true);
  assert.equal(existsSync(path.join(d, '.lock')), false, 'released afterwards');
});

test('a live owner is waited for, then the caller gives up with one sentence', async () => {
  const d = dir();
  writeFileSync(path.join(d, '.lock'), JSON.stringify({ pid: process.ppid, host: os.hostname(), at: Date.now(), token: 'x' }));
  await assert.rejects(withPkiLock(d, async () => 1, 300), (e: Error & { sentence?: string }) => /Another ipxe-farm process \(pid \d+\) has held the PKI lock .* Wait for it to finish; if no such process runs, delete that file\./.test(e.sentence ?? ''));
  assert.equal(existsSync(path.join(d, '.lock')), true, 'a live lock is never removed');
});

test('an empty lock (owner died before writing its pid) is stale only after a grace period', async () => {
  const d = dir();
  const f = path.join(d, '.lock');
  writeFileSync(f, '');
  await assert.rejects(withPkiLock(d, async () => 1, 200), /held the PKI lock/);
  const old = new Date(Date.now() - 60_000);
  utimesSync(f, old, old);
  assert.equal(await withPkiLock(d, async (took) => took, 2000), true);
});

test('callers in one process run one at a time, in order, even when one fails', async () => {
  const d = dir();
  const order: string[] = [];
  const slow = withPkiLock(d, async () => { order.push('a-start'); await new Promise((r) => setTimeout(r, 50)); order.push('a-end'); });
  const failing = withPkiLock(d, async () => { order.push('b'); throw new Error('boom'); });
  const last = withPkiLock(d, async () => { order.push('c'); return 'done'; });
  await slow;
  await assert.rejects(failing, /boom/);
  assert.equal(await last, 'done');
  assert.deepEqual(order, ['a-start', 'a-end', 'b', 'c']);
});
