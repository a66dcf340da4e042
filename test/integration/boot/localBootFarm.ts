import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { updateFarm } from '../../../src/core/farm/load';
import { farmWithPki } from '../../support/pki';

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
