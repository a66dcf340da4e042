import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { treeLockFile, withTreeLock } from '../../../src/core/ipxe/treeLock';
import { holdLock } from '../../support/lockHolder';

// The iPXE tree lock is the same kernel flock as the PKI lock (src/core/fs/fileLock.ts): a waiting build says who holds
// the tree, can be cancelled while it waits, and runs as soon as the holder is gone, however it went.

test('a build waits for the holder of the tree, saying which process it is, and runs when that process dies', async () => {
  const tree = mkdtempSync(path.join(os.tmpdir(), 'tree-lock-'));
  const holder = await holdLock(treeLockFile(tree));
  const said: string[] = [];
  let ran = false;
  const build = withTreeLock(tree, async () => { ran = true; return 'built'; }, { onWait: (m) => said.push(m) });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(ran, false, 'not while the tree is held');
  holder.kill('SIGKILL');
  assert.equal(await build, 'built');
  assert.deepEqual(said, [`Waiting for another iPXE build in ${tree} to finish (pid ${holder.pid} since 2026-01-02 03:04:05 UTC)…`]);
  assert.equal(existsSync(treeLockFile(tree)), false, 'a clean release leaves no lock file');
});

test('a build cancelled while it waits for the tree fails with ECANCELED and never runs', async () => {
  const tree = mkdtempSync(path.join(os.tmpdir(), 'tree-lock-'));
  const holder = await holdLock(treeLockFile(tree));
  try {
    const ac = new AbortController();
    let ran = false;
    const build = withTreeLock(tree, async () => { ran = true; }, { signal: ac.signal, onWait: () => setTimeout(() => ac.abort(), 50) });
    await assert.rejects(build, (e: Error & { code?: string }) => e.code === 'ECANCELED' && /cancelled while waiting for another build/.test(e.message));
    assert.equal(ran, false);
  } finally {
    holder.kill('SIGKILL');
  }
});

test('two builds of one process take turns: the second says the first holds the tree, and can be cancelled while it waits', async () => {
  const tree = mkdtempSync(path.join(os.tmpdir(), 'tree-lock-'));
  let release!: () => void;
  let holding!: () => void;
  const held = new Promise<void>((r) => { holding = r; });
  // Waits until the first build holds the tree (a fixed sleep lost that race on a loaded machine).
  const first = withTreeLock(tree, () => new Promise<string>((r) => { release = () => r('first'); holding(); }));
  await held;
  const said: string[] = [];
  const ac = new AbortController();
  const cancelled = withTreeLock(tree, async () => 'never', { signal: ac.signal, onWait: (m) => said.push(m) });
  const second = withTreeLock(tree, async () => 'second', { onWait: (m) => said.push(m) });
  ac.abort();
  await assert.rejects(cancelled, (e: Error & { code?: string }) => e.code === 'ECANCELED');
  release();
  assert.deepEqual(await Promise.all([first, second]), ['first', 'second']);
  assert.equal(said.length, 2);
  for (const m of said) assert.match(m, new RegExp(`^Waiting for another iPXE build in .* to finish \\(pid ${process.pid} since .* UTC\\)…$`));
});
