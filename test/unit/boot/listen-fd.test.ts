import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inheritedListenFd } from '../../../src/core/boot/service';
import { FarmError } from '../../../src/core/errors';

test('socket activation: fd 3 only when LISTEN_PID is this process; the variables never reach a child', () => {
  const mine = { LISTEN_PID: '4242', LISTEN_FDS: '1', LISTEN_FDNAMES: 'boot', PATH: '/bin' };
  assert.equal(inheritedListenFd(mine, 4242), 3);
  assert.deepEqual(mine, { PATH: '/bin' });

  const parents = { LISTEN_PID: '1', LISTEN_FDS: '1' };
  assert.equal(inheritedListenFd(parents, 4242), undefined, 'meant for another process');
  assert.deepEqual(parents, {});
  assert.equal(inheritedListenFd({ PATH: '/bin' }, 4242), undefined);
});

test('socket activation with more than one socket is refused with one sentence', () => {
  assert.throws(() => inheritedListenFd({ LISTEN_PID: '7', LISTEN_FDS: '2' }, 7), (e: unknown) => e instanceof FarmError && /passed 2 sockets/.test(e.sentence) && /single ListenStream=/.test(e.sentence));
});
