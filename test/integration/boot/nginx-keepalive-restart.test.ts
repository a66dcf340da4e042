import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { LocalNginxRuntime } from '../../../src/core/nginx';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { localBootFarm, startLocalNginx } from './localBootFarm';
import { nginxMissing } from './mtlsNginx';
import { httpsGet, type ClientTls } from './httpsClient';

// The farm's generated nginx config keeps connections to the boot service open (upstream keepalive). These tests show
// that it really does, and that a connection the service closed (its restart) never costs a boot.
const skip = nginxMissing();
let root = '';
let port = 0;
let tls: ClientTls;
let svc: BootService | undefined;
let runtime: LocalNginxRuntime | undefined;

before(async () => {
  if (skip) return;
  root = await localBootFarm();
  svc = await startBootService({ root, log: () => undefined });
  ({ port, tls, runtime } = await startLocalNginx(root));
});

after(async () => {
  await runtime?.down().catch(() => undefined);
  await svc?.close().catch(() => undefined);
});

async function boots(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await httpsGet(port, '/boot.ipxe', tls);
    assert.equal(r.status, 200, `boot ${i + 1} of ${n}: ${r.body}`);
    assert.ok(r.body.includes('h=dut1'));
  }
}

test('nginx reuses its connections to the boot service: twenty boots, each on a new TLS connection, cost the service far fewer accepts', { skip }, async () => {
  await boots(2); // nginx's first connection(s)
  const before = svc!.stats();
  await boots(20);
  const after = svc!.stats();
  assert.equal(after.requests - before.requests, 20);
  assert.ok(after.connections - before.connections <= 2, `${after.connections - before.connections} new connections for 20 boots`);
});

test('a restarted service closes the connections nginx keeps; the next boots still all succeed (nginx retries on a new connection)', { skip }, async () => {
  await boots(3);
  await svc!.close();
  svc = await startBootService({ root, log: () => undefined });
  const before = svc.stats();
  await boots(10);
  assert.equal(svc.stats().requests - before.requests, 10);
});
