import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BootFollower } from '../../../src/core/verdict/follow';
import { BootStageTracker } from '../../../src/core/qemu/stages';

// A refused image asks /why.ipxe after its error; on a loaded TCG host that new TLS handshake took longer than the
// 8 s grace, and the verdict gave iPXE's bare "HTTP 4xx" instead of the farm's words (seen in a board test run).
const ERROR = 'https://10.0.2.100:4430/boot.ipxe... HTTP 4xx Client Error (https://ipxe.org/1d0c6498)\n';
const ASKING = 'iPXE Farm: asking the farm why: https://10.0.2.100:4430/why.ipxe\n';
const ANSWER = 'https://10.0.2.100:4430/why.ipxe... ok\niPXE Farm refused this machine:\nthe certificate has been revoked (ipxe-farm revoke): issue a new one and rebuild the image\n';

function follower(): { f: BootFollower; tr: BootStageTracker } {
  const tr = new BootStageTracker();
  const f = new BootFollower('/nonexistent', 'dut1', 0, tr, 8000);
  return { f, tr };
}

test('while the image waits for the farm\'s answer to "why", the grace does not run out; the answer then decides', () => {
  const { f, tr } = follower();
  tr.feed(ERROR, 1000);
  assert.equal(f.decide(1000, false, false, 300_000), undefined);
  tr.feed(ASKING, 1500);
  assert.equal(f.decide(30_000, false, false, 300_000), undefined, 'still asking why 29 s after the error');
  tr.feed(ANSWER, 31_000);
  const d = f.decide(31_000, false, false, 300_000)!;
  assert.equal(d.outcome, 'fail');
  assert.match(d.reason, /the farm refused this machine: the certificate has been revoked/);
});

test('no question asked, or the question itself failed: the error decides once the grace is over', () => {
  const a = follower();
  a.tr.feed(ERROR, 1000);
  assert.equal(a.f.decide(1000, false, false, 300_000), undefined);
  assert.match(a.f.decide(9500, false, false, 300_000)!.reason, /iPXE 1d0c6498/);
  const b = follower();
  b.tr.feed(ERROR + ASKING + 'https://10.0.2.100:4430/why.ipxe... Permission denied (https://ipxe.org/0216eb8f)\n', 1000);
  assert.equal(b.f.decide(1000, false, false, 300_000), undefined);
  assert.match(b.f.decide(9500, false, false, 300_000)!.reason, /iPXE 1d0c6498/);
});

test('the overall time-out still ends a wait for an answer that never comes', () => {
  const { f, tr } = follower();
  tr.feed(ERROR + ASKING, 1000);
  assert.equal(f.decide(1000, false, false, 300_000), undefined);
  assert.equal(f.decide(60_000, false, false, 300_000), undefined);
  assert.equal(f.decide(300_000, false, true, 300_000)!.outcome, 'fail');
});
