import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthOf, type RecordedVerdict } from '../../../src/core/verdict/health';
import { metricsListen } from '../../../src/core/metrics/serve';
import { starterFarm } from '../../../src/core/farm/model';

const v = (outcome: 'pass' | 'fail', i: number, reason = outcome === 'pass' ? 'ok' : `boom ${i}`): RecordedVerdict =>
  ({ client: 'dut1', outcome, reason, stages: {}, startedAt: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`, elapsedMs: 1 });

test('health: rate over the last N only, the last failure\'s reason, flaky under the threshold, failing at zero', () => {
  const all = [v('fail', 1), v('fail', 2), ...Array.from({ length: 9 }, (_, i) => v('pass', i + 3)), v('fail', 12), v('pass', 13)];
  let h = healthOf('dut1', all, { last: 10, threshold: 0.8 });
  assert.deepEqual([h.boots, h.passed, h.state], [10, 9, 'healthy']);
  assert.equal(h.lastFailure?.reason, 'boom 12');
  h = healthOf('dut1', all, { last: 10, threshold: 0.95 });
  assert.equal(h.state, 'flaky');
  assert.equal(healthOf('dut1', [v('fail', 1), v('fail', 2)], { last: 5, threshold: 0.9 }).state, 'failing');
  assert.equal(healthOf('other', all).state, 'untested');
});

test('metrics listen: loopback by default; another address only when the farm file names it', () => {
  const farm = starterFarm('lab');
  assert.deepEqual(metricsListen(farm), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(metricsListen(farm, '[::1]:9000'), { host: '::1', port: 9000 });
  assert.throws(() => metricsListen(farm, '0.0.0.0:9464'), /would be reachable from other machines, and the farm file does not name it/);
  assert.deepEqual(metricsListen({ ...farm, metrics: { listen: '10.1.0.2:9464' } }), { host: '10.1.0.2', port: 9464 });
});
