import { tempFarm } from './farm';
import { initCa, issueClients, issueCodesign, issueServer } from '../../src/core/pki';

/**
 * A fresh temp farm (loopback, free ports) with its CA, the server certificate (SANs localhost, 127.0.0.1,
 * 10.0.2.100), clients "dut1" and "dut2", and the code-signing certificate. Files: pkiPaths(farmLayout(root)).
 */
export async function farmWithPki(name = 'testfarm'): Promise<string> {
  const root = await tempFarm(name);
  await initCa(root);
  await issueServer(root);
  await issueClients(root, ['dut1', 'dut2']);
  await issueCodesign(root);
  return root;
}
