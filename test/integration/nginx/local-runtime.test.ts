import { test } from 'node:test';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort, twoFreePorts } from '../../support/ports';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import assert from 'node:assert/strict';
import { which } from '../../../src/core/process/light';
import { LocalNginxRuntime } from '../../../src/core/nginx/localRuntime';
import { FarmError } from '../../../src/core/errors';
import { clientIdentity, httpsGet, nginxTestFarm } from '../../support/nginx';
import * as os from 'node:os';
import { initFarm } from '../../../src/core/farm/init';
import { initCa, issueClients, issueServer } from '../../../src/core/pki';
import { generateNginxConfig } from '../../../src/core/nginx/generate';
import { runtimeScenario } from './scenario';
import { openFarm } from '../../../src/core/farm/handle';

const missing = () => (which('nginx') ? undefined : 'SKIPPED: nginx is not installed (apt-get install nginx): the local runtime was NOT tested');

runtimeScenario('local', missing);

test('local: nginx not installed -> one sentence naming the package', async () => {
  const f = await nginxTestFarm('local');
  const rt = new LocalNginxRuntime(f.farm, f.layout, { nginx: '/nonexistent/bin/nginx' });
  await assert.rejects(rt.up(), (e: FarmError) => e.code === 'ENOPROGRAM' && /apt-get install nginx/.test(e.sentence));
});

test('local: a port nginx -t cannot check (taken by another program) fails the start with the port and its process', async (t) => {
  const skip = missing();
  if (skip) return t.skip(skip);
  const f = await nginxTestFarm('local');
  const taken = await freePort();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(taken, '127.0.0.1', r));
  // Not one of the farm's ports, so only nginx's own bind() finds it taken.
  fs.writeFileSync(path.join(f.layout.nginx, 'conf.d', 'extra.conf'), `server {\n    listen 127.0.0.1:${taken};\n}\n`);
  const rt = new LocalNginxRuntime(f.farm, f.layout);
  try {
    await assert.rejects(rt.up(), (e: FarmError) => {
      assert.equal(e.code, 'EADDRINUSE', e.message);
      assert.match(e.sentence, new RegExp(`port ${taken}: it is already taken by node \\(pid ${process.pid}\\)`));
      return true;
    });
    assert.equal((await rt.status()).state, 'stopped');
  } finally {
    blocker.close();
    await rt.down();
  }
});

test('local: a config that does not listen on the farm\'s ports is refused before starting', async (t) => {
  const skip = missing();
  if (skip) return t.skip(skip);
  const f = await nginxTestFarm('local');
  const newPort = await freePort();
  await updateFarm(f.root, (raw) => { (raw.server as Record<string, unknown>).httpsPort = newPort; });
  const { farm, layout } = await loadFarm(f.root);
  const rt = new LocalNginxRuntime(farm, layout);
  try {
    await assert.rejects(rt.up(), (e: FarmError) => e.code === 'EPORTMISMATCH' && new RegExp(`does not listen on port ${newPort}`).test(e.message));
    assert.equal((await rt.status()).state, 'stopped');
  } finally {
    await rt.down();
  }
});

test('local: a farm in a folder whose path has a space generates, tests, starts and serves mutual TLS', async (t) => {
  const skip = missing();
  if (skip) return t.skip(skip);
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe farm '));
  fs.chmodSync(parent, 0o711);
  const root = path.join(parent, 'my lab');
  await initFarm(root, { name: 'spaced' });
  const [httpsPort, httpPort] = await twoFreePorts();
  await updateFarm(root, (raw) => {
    raw.server = { address: '127.0.0.1', names: ['localhost', '127.0.0.1'], httpsPort, httpPort };
    (raw.nginx as Record<string, unknown>).runtime = 'local';
  });
  const h = await openFarm(root);
  await initCa(h);
  await issueServer(h);
  await issueClients(h, ['dut1']);
  await generateNginxConfig(h);
  const { farm, layout } = await loadFarm(root);
  const rt = new LocalNginxRuntime(farm, layout);
  try {
    await rt.up();
    const a = await httpsGet(layout, httpsPort, '/nothing-here', clientIdentity(layout, 'dut1'));
    assert.equal(a.status, 404, a.error ?? a.body);
    assert.equal((await httpsGet(layout, httpsPort, '/nothing-here', {})).status, 400);
  } finally {
    await rt.down();
  }
});
