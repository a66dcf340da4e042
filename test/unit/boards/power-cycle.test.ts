import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FarmError } from '../../../src/core/errors';
import { cycleByOffOn } from '../../../src/core/power/driver';
import { fillArgs } from '../../../src/core/power/command';

// Pure logic with a stand-in outlet (the real drivers are tested against pdudaemon, ipmi_sim and real programs).

test('a power cycle that fails after the off says the board is left OFF, with the driver\'s fix kept', async () => {
  const calls: string[] = [];
  const ctl = {
    off: async () => { calls.push('off'); },
    on: async () => { calls.push('on'); throw new FarmError('Cannot switch rack1 on: pdudaemon at 127.0.0.1:1 is unreachable (ECONNREFUSED).', 'Start pdudaemon.', 'EPOWER'); },
  };
  await assert.rejects(cycleByOffOn(ctl, 'rack1'), (e: FarmError) => {
    assert.match(e.message, /the power cycle of rack1 stopped after switching it off, so rack1 is left OFF\.$/);
    assert.equal(e.fix, 'Start pdudaemon.');
    return true;
  });
  assert.deepEqual(calls, ['off', 'on']);
  const offFails = { off: async () => { throw new FarmError('Cannot switch rack1 off: refused.', undefined, 'EPOWER'); }, on: async () => { calls.push('on2'); } };
  await assert.rejects(cycleByOffOn(offFails, 'rack1'), /Cannot switch rack1 off/);
  assert.ok(!calls.includes('on2'), 'no on after a failed off');
});

test('command arguments: client name, MAC and variables filled in; an undefined variable is named', () => {
  const client = { macs: ['52:54:00:00:00:01'], vars: { relay: '3' } };
  assert.deepEqual(fillArgs(['relay', '--port={{client.vars.relay}}', '{{client.name}}', '{{client.mac}}'], { name: 'rack1', client }), ['relay', '--port=3', 'rack1', '52:54:00:00:00:01']);
  assert.throws(() => fillArgs(['relay', '{{client.vars.plug}}'], { name: 'rack1', client }), /uses \{\{client\.vars\.plug\}\}, which rack1 does not define/);
});
