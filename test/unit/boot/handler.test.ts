import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { tempFarm } from '../../support/farm';
import { answer, refusalScript } from '../../../src/core/boot/handler';
import { loadBootState } from '../../../src/core/boot/state';
import { bootFarm, FP1 } from './fixtures';
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
