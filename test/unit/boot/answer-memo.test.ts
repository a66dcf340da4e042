import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempFarm } from '../../support/farm';
import { answer, BootRequest } from '../../../src/core/boot/handler';
import { eventLine, rememberedAnswer } from '../../../src/core/boot/answerMemo';
import { loadBootState } from '../../../src/core/boot/state';
import { bootFarm, FP1, FP2, FP3, record, writeIndex } from './fixtures';

function req(url: string, headers: Record<string, string | string[]> = {}, method = 'GET'): BootRequest {
  const distinct = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));
  return { url, method, headersDistinct: distinct };
}

const ok = (fp: string) => ({ 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': fp });

test('a remembered answer is byte for byte what answer() says, event line included, for every kind of request', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const s = await loadBootState(root);
  const now = new Date('2026-06-01T12:00:00.123Z');
  const cases: BootRequest[] = [
    req('/boot.ipxe', ok(FP1)), req('/boot.ipxe', ok(FP2)), req('/ipxe', ok(FP1)), req('/why.ipxe', ok(FP1)),
    req('/ipxe/52:54:00:12:34:56', ok(FP1)), req('/ipxe/52:54:00:12:34:57', ok(FP1)), req('/ipxe/52-54-00-12-34-56', ok(FP1)),
    req('/boot.ipxe', ok(FP3)), req('/why.ipxe', ok(FP3)), req('/boot.ipxe', ok('99'.repeat(20))),
    req('/boot.ipxe', { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Serial': '1A' }),
    req('/boot.ipxe', { 'X-SSL-Client-Verify': 'NONE' }), req('/boot.ipxe', { 'X-SSL-Client-Verify': 'FAILED:certificate revoked', 'X-SSL-Client-Fingerprint': FP1 }),
    req('/boot.ipxe', { 'X-SSL-Client-Verify': '', 'X-SSL-Client-Fingerprint': FP1 }), req('/boot.ipxe', { 'X-SSL-Client-Fingerprint': FP1 }),
    req('/boot.ipxe', { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': '' }),
    req('/boot.ipxe', { 'X-SSL-Client-Verify': ['SUCCESS', 'SUCCESS'], 'X-SSL-Client-Fingerprint': FP1 }),
    req('/boot.ipxe', { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': [FP2, FP1] }),
    req('/boot.ipxe?x=1', ok(FP1)), req('/boot.ipxe', ok(FP1), 'HEAD'), req('/boot.ipxe', ok(FP1), 'DELETE'),
    req('/nope', ok(FP1)), req(`/ipxe/${'1'.repeat(300)}`, ok(FP1)),
  ];
  // Twice round, so the second answers come from the memo; interleaved, so one request never gets another's answer.
  for (let round = 0; round < 2; round++) {
    for (const r of cases) {
      const want = answer(s, r, now);
      const got = rememberedAnswer(s, r, now);
      const what = `${r.method} ${r.url} ${JSON.stringify(r.headersDistinct)} (round ${round})`;
      assert.equal(got.status, want.status, what);
      assert.equal(got.body, want.body, what);
      assert.equal(eventLine(got, want.event.time), `${JSON.stringify(want.event)}\n`, what);
    }
  }
  // Requests that differ only in a header answer() ignores share one answer; the script is still the client's own.
  const a = rememberedAnswer(s, req('/boot.ipxe', { ...ok(FP1), 'X-Real-IP': '10.0.2.15' }), now);
  const b = rememberedAnswer(s, req('/boot.ipxe', { ...ok(FP1), 'X-Real-IP': '10.0.2.16' }), now);
  assert.equal(a, b);
  assert.match(a.body, /host=dut1 /);
});

test('a remembered answer ends with its certificate: at notAfter + 1 ms the same request is refused as expired', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const notAfter = '2026-06-01T12:00:00.000Z';
  writeIndex(root, [record('dut1', '1A', FP1, { notAfter }), record('dut2', '1B', FP2)]);
  const s = await loadBootState(root);
  const at = (ms: number) => new Date(Date.parse(notAfter) + ms);
  assert.equal(rememberedAnswer(s, req('/boot.ipxe', ok(FP1)), at(-60_000)).status, 200);
  assert.equal(rememberedAnswer(s, req('/boot.ipxe', ok(FP1)), at(0)).status, 200, 'still valid at its last millisecond');
  const late = rememberedAnswer(s, req('/boot.ipxe', ok(FP1)), at(1));
  assert.equal(late.status, 403);
  assert.match(late.event.reason ?? '', /expired on 2026-06-01/);
  assert.equal(rememberedAnswer(s, req('/why.ipxe', ok(FP1)), at(-1)).body.includes('this machine is allowed'), true);
  assert.match(rememberedAnswer(s, req('/why.ipxe', ok(FP1)), at(1)).body, /expired/);
  assert.equal(rememberedAnswer(s, req('/boot.ipxe', ok(FP2)), at(1)).status, 200, 'another client is not affected');
});

test('a new state (the reloader swaps it on a revocation) never answers from the old state\'s memo', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const before = await loadBootState(root);
  const now = new Date('2026-06-01T12:00:00Z');
  assert.equal(rememberedAnswer(before, req('/boot.ipxe', ok(FP1)), now).status, 200);
  writeIndex(root, [record('dut1', '1A', FP1, { status: 'revoked', revokedAt: '2026-05-30T00:00:00Z' }), record('dut2', '1B', FP2)]);
  const after = await loadBootState(root);
  const refused = rememberedAnswer(after, req('/boot.ipxe', ok(FP1)), now);
  assert.equal(refused.status, 403);
  assert.match(refused.event.reason ?? '', /revoked on 2026-05-30/);
  assert.doesNotMatch(refused.body, /S3cr3t/);
  assert.equal(rememberedAnswer(before, req('/boot.ipxe', ok(FP1)), now).status, 200, 'the old state is unchanged for requests already under way');
});
