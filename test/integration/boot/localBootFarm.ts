import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { generateNginxConfig, LocalNginxRuntime } from '../../../src/core/nginx';
import { pkiPaths } from '../../../src/core/pki';
import { farmWithPki } from '../../support/pki';
import { readTls } from './httpsClient';
import { openFarm } from '../../../src/core/farm/handle';

/**
 * A farm for nginx-in-front tests: the PKI of farmWithPki, the local nginx runtime, one profile "a" whose script
 * carries the client's name (h=NAME), and dut1 mapped to it. The temp parent is 0711 so nginx's workers can pass.
 */
export async function localBootFarm(): Promise<string> {
  const root = await farmWithPki();
  fs.chmodSync(path.dirname(root), 0o711);
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'k');
  await updateFarm(root, (raw) => {
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = { a: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 h={{client.name}}', verify: false, extra: [] } };
    raw.clients = { dut1: { profile: 'a', macs: [], vars: {} } };
  });
  return root;
}

/** The farm's generated nginx config, up with the local runtime; dut1's TLS identity for requests through it. */
export async function startLocalNginx(root: string) {
  await generateNginxConfig(await openFarm(root));
  const { farm, layout } = await loadFarm(root);
  const p = pkiPaths(layout);
  const runtime = new LocalNginxRuntime(farm, layout);
  await runtime.up();
  return { farm, layout, runtime, port: farm.server.httpsPort, tls: readTls(p.clientCert('dut1'), p.clientKey('dut1'), p.caCert) };
}
