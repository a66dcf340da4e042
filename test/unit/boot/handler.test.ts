import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { tempFarm } from '../../support/farm';
import { ALLOWED_HEADLINE, ALLOWED_HINT, answer, refusalScript } from '../../../src/core/boot/handler';
import { updateFarm } from '../../../src/core/farm/load';
import { loadBootState } from '../../../src/core/boot/state';
import { bootFarm, FP1, FP3, record, writeIndex } from './fixtures';
import { parseIpxeScript } from './ipxeParse';

function req(url: string, headers: Record<string, string | string[]> = {}, method = 'GET'): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const distinct = Object.fromEntries(Object.entries(lower).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
  return { url, method, headers: lower, headersDistinct: distinct } as unknown as IncomingMessage;
}

test('routes: /boot.ipxe, /ipxe, /ipxe/MAC answer; anything else is 404 before identity is looked at', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const s = await loadBootState(root);
  const id = { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': FP1 };
  for (const u of ['/boot.ipxe', '/ipxe', '/ipxe/52:54:00:12:34:56', '/ipxe/52%3a54%3a00%3a12%3a34%3a56', '/boot.ipxe?x=1']) assert.equal(answer(s, req(u, id)).status, 200, u);
  for (const u of ['/', '/boot.ipxe/', '/ipxe/', '/ipxe/zz', '/IPXE', '/ipxe/52:54:00:12:34:56/x', '/files/vmlinuz']) assert.equal(answer(s, req(u, id)).status, 404, u);
  assert.equal(answer(s, req('/why.ipxe', id)).status, 200, '/why.ipxe is a route of its own');
  assert.equal(answer(s, req('/boot.ipxe', id, 'DELETE')).status, 405);
  assert.equal(answer(s, req(`/ipxe/${'x'.repeat(300)}`, id)).status, 414);
});

test('the answer\'s event never holds the script or a secret; a cached script is the same script', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const s = await loadBootState(root);
  const id = { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': FP1 };
  const a = answer(s, req('/boot.ipxe', id));
  const b = answer(s, req('/boot.ipxe', id));
  assert.equal(a.body, b.body);
  assert.ok(a.body.includes('S3cr3t-T0ken'));
  const ev = JSON.stringify(a.event);
  assert.ok(!ev.includes('S3cr3t-T0ken') && !ev.includes('kernel'));
  assert.deepEqual(Object.keys(a.event).sort(), ['client', 'fingerprint', 'path', 'profile', 'serial', 'status', 'time']);
});

test('a refusal script only echoes and exits, whatever the reason text holds', () => {
  const s = refusalScript('refused:', 'evil || shell ; chain http://x/y #z ${privkey}\nboot');
  assert.deepEqual(parseIpxeScript(s).commands.map((c) => c.argv[0]), ['echo', 'echo', 'exit']);
});

/** The echo lines of a script, as the console shows them. */
const echoed = (body: string) => parseIpxeScript(body).commands.filter((c) => c.argv[0] === 'echo').map((c) => c.argv.slice(1).join(' '));

test('/why.ipxe answers 200 with only echo lines and exit 0, for each reason this certificate is refused', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  // No default profile, so a certificate whose client left the farm has nothing to boot; plus an expired one.
  await updateFarm(root, (raw) => { delete raw.defaultProfile; });
  writeIndex(root, [
    record('dut1', '1A', FP1), record('old', '1C', FP3, { status: 'revoked', revokedAt: '2026-01-02T00:00:00Z' }),
    record('gone', '1D', 'dd'.repeat(20)), record('stale', '1E', 'ee'.repeat(20), { notAfter: '2021-01-01T00:00:00Z' }),
  ]);
  const s = await loadBootState(root);
  const cases: Array<[Record<string, string | string[]>, RegExp]> = [
    [{ 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': FP3 }, /^certificate serial 1C of client old was revoked on 2026-01-02$/],
    [{ 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': 'ee'.repeat(20) }, /^certificate serial 1E of client stale expired on 2021-01-01$/],
    [{ 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': 'dd'.repeat(20) }, /^client gone is not in the farm \(its certificate is valid but it has no boot mapping\) and the farm has no default profile/],
    [{ 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': '12'.repeat(20) }, /is not in the farm's PKI index$/],
    [{ 'X-SSL-Client-Verify': 'NONE' }, /^no client certificate was presented$/],
    [{ 'X-SSL-Client-Verify': 'FAILED:certificate revoked' }, /^nginx could not verify the client certificate \(FAILED:certificate revoked\)$/],
    [{}, /did not come through the farm's nginx/],
    [{ 'X-SSL-Client-Verify': ['SUCCESS', 'SUCCESS'], 'X-SSL-Client-Fingerprint': FP1 }, /x-ssl-client-verify header was sent more than once/],
  ];
  for (const [headers, reason] of cases) {
    const boot = answer(s, req('/boot.ipxe', headers));
    const why = answer(s, req('/why.ipxe', headers));
    assert.equal(boot.status, 403, JSON.stringify(headers));
    assert.equal(why.status, 200, JSON.stringify(headers));
    assert.deepEqual(parseIpxeScript(why.body).commands.map((c) => c.argv.join(' ')).filter((c) => !c.startsWith('echo ')), ['exit 0']);
    const lines = echoed(why.body);
    assert.equal(lines[0], 'iPXE Farm refused this machine:');
    assert.match(lines[1]!, reason, JSON.stringify(headers));
    // The 4xx answer carries the same words (for curl and people), only its exit status differs.
    assert.deepEqual(echoed(boot.body), lines);
    assert.equal(why.event.path, '/why.ipxe');
    assert.equal(why.event.profile, undefined, 'an answer to "why" is never recorded as a boot');
    assert.match(why.event.reason!, /^asked why: /);
  }
});

test('/why.ipxe for an allowed machine says so and returns neither its script nor its secret', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const s = await loadBootState(root);
  const id = { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': FP1 };
  assert.equal(answer(s, req('/boot.ipxe', id)).status, 200);
  for (const u of ['/why.ipxe', '/why.ipxe?mac=52:54:00:12:34:56']) {
    const why = answer(s, req(u, id));
    assert.equal(why.status, 200);
    assert.deepEqual(parseIpxeScript(why.body).commands.map((c) => c.argv[0]), ['echo', 'echo', 'exit']);
    assert.deepEqual(echoed(why.body), [ALLOWED_HEADLINE, ALLOWED_HINT]);
    assert.match(why.body, /ipxe-farm decode/);
    for (const leak of ['S3cr3t-T0ken', 'vmlinuz', 'kernel', 'console=', 'dut2', 'rescue']) assert.ok(!why.body.includes(leak), `${u} leaks ${leak}`);
    assert.deepEqual(why.event, { time: why.event.time, status: 200, path: '/why.ipxe', client: 'dut1', fingerprint: FP1, serial: '1A', reason: 'asked why: this machine is allowed' });
  }
  assert.equal(answer(s, req('/why.ipxe', id, 'POST')).status, 405);
  assert.equal(answer(s, req('/why.ipxe/x', id)).status, 404);
});
