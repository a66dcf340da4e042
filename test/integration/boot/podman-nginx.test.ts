import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { farmWithPki } from '../../support/pki';
import { removeContainer, setupPodman } from '../../support/podman';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { pkiPaths } from '../../../src/core/pki';
import { generateNginxConfig, PodmanNginxRuntime } from '../../../src/core/nginx';
import { setSecret } from '../../../src/core/secrets/store';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { parseIpxeScript } from '../../unit/boot/ipxeParse';
import { httpsGet, readTls } from './httpsClient';
import { openFarm } from '../../../src/core/farm/handle';

// nginx in podman reaches the boot service through the bind-mounted socket folder; on the host the runtime folder is
// 0700, so nobody but the farm's owner gets near the socket (no host group id involved).
const setup = setupPodman();
const skip = setup.ok ? undefined : `podman is not usable here: ${setup.reason}`;
const SECRET = 'podman-boot-secret-7781';
let root = '';
let container = '';
let svc: BootService | undefined;
let runtime: PodmanNginxRuntime | undefined;

before(async () => {
  if (skip) return;
  root = await farmWithPki();
  container = `ipxe-farm-boot-test-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'k');
  await setSecret(root, 'tok', SECRET);
  await updateFarm(root, (raw) => {
    Object.assign(raw.nginx as Record<string, unknown>, { runtime: 'podman', container });
    raw.profiles = { a: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 t={{secret.tok}} h={{client.name}}', verify: false, extra: [] } };
    raw.clients = { dut1: { profile: 'a', macs: [], vars: {} } };
  });
  svc = await startBootService({ root, log: () => undefined });
  await generateNginxConfig(await openFarm(root));
  const { farm, layout } = await loadFarm(root);
  runtime = new PodmanNginxRuntime(farm, layout);
  await runtime.up();
});

after(async () => {
  await runtime?.down().catch(() => undefined);
  if (container) removeContainer(container);
  await svc?.close().catch(() => undefined);
});

test('podman nginx -> boot service over the bind-mounted socket: the client gets its script', { skip }, async () => {
  const { farm } = await loadFarm(root);
  const p = pkiPaths(farmLayout(root));
  assert.equal(fs.statSync(farmLayout(root).runtime).mode & 0o777, 0o700, 'the host barrier: the runtime folder is the owner\'s alone');
  const r = await httpsGet(farm.server.httpsPort, '/boot.ipxe', readTls(p.clientCert('dut1'), p.clientKey('dut1'), p.caCert));
  assert.equal(r.status, 200, r.body);
  assert.ok(r.body.includes(`t=${SECRET}`) && r.body.includes('h=dut1'));
  assert.deepEqual(parseIpxeScript(r.body).commands.map((c) => c.argv[0]), ['kernel', 'boot']);
  const logs = await runtime!.logs(200);
  assert.ok(!logs.includes(SECRET), 'no secret in the container logs');
});
