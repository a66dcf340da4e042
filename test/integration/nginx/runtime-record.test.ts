import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { openFarm } from '../../../src/core/farm/handle';
import { bootSocketAccess } from '../../../src/core/socket/access';
import { readRunRecord } from '../../../src/core/farm/runRecord';
import { which } from '../../../src/core/process/light';
import { nginxTestFarm } from '../../support/nginx';
import { removeContainer, setupPodman } from '../../support/podman';
import { resolveRuntime } from '../../../src/core/farm/runtimeChoice';

const cli = path.resolve(__dirname, '..', '..', '..', '..', 'out', 'cli.js');
const farmCli = (root: string, args: string[]) => spawnSync(process.execPath, [cli, ...args, '--farm', root], { encoding: 'utf8', env: process.env, timeout: 120_000 });

/** Whether something accepts connections on the port (nginx's HTTPS listener). */
const listening = (port: number) => new Promise<boolean>((resolve) => {
  const s = net.connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

test('nginx up --runtime local on a podman farm: the file follows, status and down reach the local nginx, its ports are freed', async (t) => {
  if (!which('nginx')) return t.skip('SKIPPED: nginx is not installed (apt-get install nginx): the runtime record was NOT tested');
  const f = await nginxTestFarm('podman');
  t.after(() => { farmCli(f.root, ['nginx', 'down']); });
  const up = farmCli(f.root, ['nginx', 'up', '--runtime', 'local']);
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stderr, /nginx\.runtime in ipxe-farm\.json is now local \(was podman\)/);
  assert.equal((await loadFarm(f.root)).farm.nginx.runtime, 'local');
  assert.equal(readRunRecord(f.layout)?.kind, 'local');
  assert.ok(await listening(f.farm.server.httpsPort));
  // The farm as every later command opens it: the local nginx, running, and the boot socket opened to its workers.
  const opened = await openFarm(f.root);
  assert.equal(opened.runtime.kind, 'local');
  assert.equal(opened.runtime.running?.kind, 'local');
  assert.equal(bootSocketAccess(opened.farm, opened.runtime.kind).kind, 'group');

  for (const args of [['nginx', 'status'], ['nginx', 'status', '--runtime', 'local']]) {
    const status = farmCli(f.root, args);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /nginx \(local, .*\): running/, args.join(' '));
  }

  const down = farmCli(f.root, ['nginx', 'down', '--runtime', 'local']);
  assert.equal(down.status, 0, down.stderr);
  assert.equal(await listening(f.farm.server.httpsPort), false, 'down stopped the nginx that held the port');
  assert.equal(readRunRecord(f.layout), undefined);
});

test('the running runtime wins over a hand-edited farm file: status, the boot socket and down follow it; up of the other runtime is refused', async (t) => {
  if (!which('nginx')) return t.skip('SKIPPED: nginx is not installed (apt-get install nginx): the runtime record was NOT tested');
  const f = await nginxTestFarm('local');
  t.after(() => { farmCli(f.root, ['nginx', 'down', '--runtime', 'local']); });
  assert.equal(farmCli(f.root, ['nginx', 'up']).status, 0);
  // Someone switches the farm file to podman while the local nginx runs.
  await updateFarm(f.root, (raw) => { (raw.nginx as Record<string, unknown>).runtime = 'podman'; });
  const { farm, layout } = await loadFarm(f.root);

  const status = farmCli(f.root, ['nginx', 'status']);
  assert.match(status.stdout, /nginx \(local, .*\): running/, status.stdout + status.stderr);
  assert.equal(bootSocketAccess(farm, resolveRuntime(farm, layout).kind).kind, 'group', "the boot socket is opened to the local workers' group, not a container");

  // Without --runtime, up reaches the running nginx (nothing to do); asking for the other runtime is refused.
  assert.equal(farmCli(f.root, ['nginx', 'up']).status, 0);
  const other = farmCli(f.root, ['nginx', 'up', '--runtime', 'podman']);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /already runs in the local runtime .* `ipxe-farm nginx down`/);

  assert.equal(farmCli(f.root, ['nginx', 'down']).status, 0);
  assert.equal(await listening(f.farm.server.httpsPort), false);
});

test('nginx up --runtime podman on a local farm: status and down reach the container', async (t) => {
  const podman = setupPodman();
  if (!podman.ok) return t.skip(podman.reason);
  const f = await nginxTestFarm('local');
  t.after(() => { removeContainer(f.farm.nginx.container); });
  const up = farmCli(f.root, ['nginx', 'up', '--runtime', 'podman']);
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stderr, /is now podman \(was local\)/);
  assert.match(up.stderr, /written again for the podman runtime/);
  const opened = await openFarm(f.root);
  assert.equal(opened.runtime.kind, 'podman');
  assert.equal(bootSocketAccess(opened.farm, opened.runtime.kind).kind, 'container', 'the boot socket is mounted into the container, not opened to a host group');
  for (const args of [['nginx', 'status'], ['nginx', 'status', '--runtime', 'podman']]) {
    assert.match(farmCli(f.root, args).stdout, /nginx \(podman, .*\): running/, args.join(' '));
  }
  const down = farmCli(f.root, ['nginx', 'down', '--runtime', 'podman']);
  assert.equal(down.status, 0, down.stderr);
  assert.equal(await listening(f.farm.server.httpsPort), false, 'down stopped the container that held the port');
  assert.notEqual(spawnSync('podman', ['container', 'exists', f.farm.nginx.container], { env: process.env }).status, 0, 'the container is gone');
  assert.equal(readRunRecord(f.layout), undefined);
});

test('nginx up without a config says to run nginx init first', async (t) => {
  if (!which('nginx')) return t.skip('SKIPPED: nginx is not installed');
  const f = await nginxTestFarm('local');
  spawnSync('rm', ['-rf', f.layout.nginx]);
  const up = farmCli(f.root, ['nginx', 'up']);
  assert.equal(up.status, 1);
  assert.match(up.stderr, /no nginx configuration yet .* Run `ipxe-farm nginx init` first/);
});

test('nginx up --runtime local refused for want of a config changes nothing: the farm file keeps its runtime, byte for byte', async () => {
  const f = await nginxTestFarm('podman');
  spawnSync('rm', ['-rf', f.layout.nginx]);
  const before = fs.readFileSync(f.layout.farmFile, 'utf8');
  const up = farmCli(f.root, ['nginx', 'up', '--runtime', 'local']);
  assert.equal(up.status, 1, up.stderr);
  assert.match(up.stderr, /no nginx configuration yet .* Run `ipxe-farm nginx init` first/);
  assert.doesNotMatch(up.stderr, /is now local/);
  assert.equal(fs.readFileSync(f.layout.farmFile, 'utf8'), before, 'a refused up leaves ipxe-farm.json as it was');
  assert.equal(fs.existsSync(f.layout.nginx), false, 'and writes no config either');
  assert.equal(readRunRecord(f.layout), undefined);
});
