import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initFarm } from '../../src/core/farm/init';
import { updateFarm } from '../../src/core/farm/load';
import { twoFreePorts } from './ports';

/** A fresh farm in a temp folder on free ports, served at 127.0.0.1 (tests stay on loopback). */
export async function tempFarm(name = 'testfarm'): Promise<string> {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-test-')), name);
  await initFarm(dir, { name });
  const [httpsPort, httpPort] = await twoFreePorts();
  await updateFarm(dir, (raw) => {
    raw.server = { address: '127.0.0.1', names: ['localhost', '127.0.0.1', '10.0.2.100'], httpsPort, httpPort };
  });
  return dir;
}

/** Skip reason when a program is missing, so a test can say loudly why it did not run. */
export { which } from '../../src/core/process/light';
