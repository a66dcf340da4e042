import { test } from 'node:test';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort } from '../../support/ports';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import assert from 'node:assert/strict';
import { which } from '../../../src/core/process/run';
import { LocalNginxRuntime } from '../../../src/core/nginx/localRuntime';
import { FarmError } from '../../../src/core/errors';
import { nginxTestFarm } from '../../support/nginx';
import { runtimeScenario } from './scenario';

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
