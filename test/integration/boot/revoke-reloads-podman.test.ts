import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { farmWithPki } from '../../support/pki';
import { removeContainer, setupPodman } from '../../support/podman';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { pkiPaths, revoke } from '../../../src/core/pki';
import { generateNginxConfig, PodmanNginxRuntime } from '../../../src/core/nginx';
import { reloadNginxForCrl } from '../../../src/core/nginx/reloadForCrl';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { httpsGet, readTls } from './httpsClient';
import { openFarm } from '../../../src/core/farm/handle';

// Issue 13, finding 1, podman runtime: what `ipxe-farm revoke` does after recording the revocation (reloadNginxForCrl)
// makes the farm's nginx container read the new CRL, so nginx itself refuses the certificate (400) with no manual
// reload. The boot service here never reloads on its own, so a 400 can only come from nginx.
const setup = setupPodman();
const skip = setup.ok ? undefined : `SKIPPED LOUDLY: podman is not usable here: ${setup.reason}`;
let root = '';
let container = '';
let port = 0;
let svc: BootService | undefined;
let runtime: PodmanNginxRuntime | undefined;

before(async () => {
  if (skip) return;
  root = await farmWithPki();
  container = `ipxe-farm-revoke-test-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'k');
  await updateFarm(root, (raw) => {
    Object.assign(raw.nginx as Record<string, unknown>, { runtime: 'podman', container });
    raw.profiles = { a: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 h={{client.name}}', verify: false, extra: [] } };
    raw.clients = { dut1: { profile: 'a', macs: [], vars: {} }, dut2: { profile: 'a', macs: [], vars: {} } };
  });
  svc = await startBootService({ root, log: () => undefined, reloadIntervalMs: 60_000 });
  await generateNginxConfig(await openFarm(root));
  const { farm, layout } = await loadFarm(root);
  port = farm.server.httpsPort;
  runtime = new PodmanNginxRuntime(farm, layout);
  await runtime.up();
});

after(async () => {
  await runtime?.down().catch(() => undefined);
  if (container) removeContainer(container);
  await svc?.close().catch(() => undefined);
});

test('finding 1 (podman): revoke reloads the nginx container, which then refuses the certificate itself (400)', { skip }, async () => {
  const p = pkiPaths(farmLayout(root));
  const tls = (n: string) => readTls(p.clientCert(n), p.clientKey(n), p.caCert);
  assert.equal((await httpsGet(port, '/boot.ipxe', tls('dut1'))).status, 200);
  await revoke(root, 'dut1');
  const r = await reloadNginxForCrl(root);
  assert.ok(r.ok && r.reloaded, r.message);
  assert.match(r.message, /nginx \(podman, .*\) reloaded/);
  let got = await httpsGet(port, '/boot.ipxe', tls('dut1'));
  for (const end = Date.now() + 10_000; got.status !== 400 && Date.now() < end;) {
    await new Promise((res) => setTimeout(res, 100));
    got = await httpsGet(port, '/boot.ipxe', tls('dut1'));
  }
  assert.equal(got.status, 400, got.body);
  assert.equal((await httpsGet(port, '/boot.ipxe', tls('dut2'))).status, 200);
});
