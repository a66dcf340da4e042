import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { pkiPaths, revoke } from '../../../src/core/pki';
import { generateNginxConfig, LocalNginxRuntime } from '../../../src/core/nginx';
import { setSecret } from '../../../src/core/secrets/store';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { parseIpxeScript } from '../../unit/boot/ipxeParse';
import { nginxMissing } from './mtlsNginx';
import { httpsGet, readTls } from './httpsClient';
import { openFarm } from '../../../src/core/farm/handle';

// The farm's own nginx (the nginx module's generated config and local runtime) in front of the boot service.
const skip = nginxMissing();
const S1 = 'farm-nginx-secret-one-4411';
const S2 = 'farm-nginx-secret-two-5522';
let root = '';
let svc: BootService | undefined;
let runtime: LocalNginxRuntime | undefined;

before(async () => {
  if (skip) return;
  root = await farmWithPki();
  fs.chmodSync(path.dirname(root), 0o711);
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'k');
  await setSecret(root, 's1', S1);
  await setSecret(root, 's2', S2);
  await updateFarm(root, (raw) => {
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = {
      a: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 k={{secret.s1}} h={{client.name}}', verify: false, extra: [] },
      b: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 k={{secret.s2}} h={{client.name}}', verify: false, extra: [] },
    };
    raw.clients = { dut1: { profile: 'a', macs: [], vars: {} }, dut2: { profile: 'b', macs: [], vars: {} } };
  });
  svc = await startBootService({ root, log: () => undefined, reloadIntervalMs: 100 });
  await generateNginxConfig(await openFarm(root));
  const { farm, layout } = await loadFarm(root);
  runtime = new LocalNginxRuntime(farm, layout);
  await runtime.up();
});

after(async () => {
  await runtime?.down().catch(() => undefined);
  await svc?.close().catch(() => undefined);
});

test('the farm\'s generated nginx config serves each client its own script; a revoked client is refused after reload', { skip }, async () => {
  const { farm } = await loadFarm(root);
  const p = pkiPaths(farmLayout(root));
  const tls = (n: string) => readTls(p.clientCert(n), p.clientKey(n), p.caCert);
  const a = await httpsGet(farm.server.httpsPort, '/boot.ipxe', tls('dut1'));
  assert.equal(a.status, 200, a.body);
  assert.ok(a.body.includes(`k=${S1}`) && !a.body.includes(S2));
  assert.deepEqual(parseIpxeScript(a.body).commands.map((c) => c.argv[0]), ['kernel', 'boot']);
  const b = await httpsGet(farm.server.httpsPort, '/ipxe', tls('dut2'));
  assert.equal(b.status, 200, b.body);
  assert.ok(b.body.includes(`k=${S2}`) && b.body.includes('h=dut2'));

  await revoke(root, 'dut2');
  await svc!.reloader.check();
  await runtime!.reload();
  const r = await httpsGet(farm.server.httpsPort, '/ipxe', tls('dut2'));
  assert.notEqual(r.status, 200);
  assert.ok(!r.body.includes(S2));
  assert.equal((await httpsGet(farm.server.httpsPort, '/boot.ipxe', tls('dut1'))).status, 200);
});
