import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withPkiLock } from '../../../src/core/pki/lock';
import { holdLock } from '../../support/lockHolder';

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

test('a live owner is waited for, then the caller gives up with one sentence naming it', async () => {
  const d = dir();
  const holder = await holdLock(path.join(d, '.lock'));
  try {
    await assert.rejects(withPkiLock(d, async () => 1, 300), (e: Error & { sentence?: string }) => new RegExp(`Another ipxe-farm process \\(pid ${holder.pid} since [^)]+ UTC\\) has held the PKI lock .* Wait for it to finish, or stop it`).test(e.sentence ?? ''));
    assert.equal(existsSync(path.join(d, '.lock')), true, 'a live lock is never removed');
  } finally {
    holder.kill('SIGKILL');
  }
});

test('a holder killed mid-way (SIGKILL) releases the lock at once, and the next caller is told it took over', async () => {
  const d = dir();
  const holder = await holdLock(path.join(d, '.lock'));
  await assert.rejects(withPkiLock(d, async () => 1, 100), /held the PKI lock/);
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('exit', r));
  assert.equal(await withPkiLock(d, async (took) => took, 2000), true);
  assert.equal(existsSync(path.join(d, '.lock')), false, 'released afterwards');
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
