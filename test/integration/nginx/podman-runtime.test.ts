import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { updateFarm, loadFarm } from '../../../src/core/farm/load';
import { PodmanNginxRuntime } from '../../../src/core/nginx/podmanRuntime';
import { ContainerShell } from '../../../src/core/nginx/containerShell';
import { FarmError } from '../../../src/core/errors';
import { clientIdentity, httpsGet, nginxTestFarm } from '../../support/nginx';
import { removeContainer, setupPodman } from '../../support/podman';
import { runtimeScenario } from './scenario';
import { freePort } from '../../support/ports';
import { OFFICIAL_NGINX_IMAGE } from '../../../src/core/nginx/imageChoice';
import { portForwards } from '../../../src/core/nginx/portForwards';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const cli = path.resolve(__dirname, '..', '..', '..', '..', 'out', 'cli.js');

const reason = () => { const r = setupPodman(); return r.ok ? undefined : r.reason; };

runtimeScenario('podman', reason);

test('podman: not installed -> one sentence naming the package', async () => {
  const f = await nginxTestFarm('podman');
  const rt = new PodmanNginxRuntime(f.farm, f.layout, { podman: '/nonexistent/bin/podman' });
  await assert.rejects(rt.up(), (e: FarmError) => e.code === 'ENOPROGRAM' && /apt-get install podman/.test(e.sentence));
});

test('podman: a missing image says how to get it, and no container is created', async (t) => {
  const skip = reason();
  if (skip) return t.skip(skip);
  const f = await nginxTestFarm('podman');
  await updateFarm(f.root, (raw) => { (raw.nginx as Record<string, unknown>).image = 'localhost/ipxe-farm-no-such-image:1'; });
  const { farm, layout } = await loadFarm(f.root);
  const rt = new PodmanNginxRuntime(farm, layout);
  await assert.rejects(rt.up(), (e: FarmError) => e.code === 'ENOIMAGE' && /podman pull localhost\/ipxe-farm-no-such-image:1/.test(e.sentence));
  assert.notEqual(spawnSync('podman', ['container', 'exists', farm.nginx.container]).status, 0);
});

test('podman: the CA private key never enters the container; only what nginx reads is mounted', async (t) => {
  const skip = reason();
  if (skip) return t.skip(skip);
  const f = await nginxTestFarm('podman');
  const rt = new PodmanNginxRuntime(f.farm, f.layout);
  assert.equal((await rt.test()).ok, true);
  const mounts = rt.mounts().filter((m) => m !== '-v');
  assert.ok(!mounts.some((m) => m.startsWith(`${f.layout.pki}:`)), 'pki/ itself is not mounted');
  const r = spawnSync('podman', ['run', '--rm', '--network', 'none', ...rt.mounts(), rt.image, '/bin/ls', '-R', f.layout.pki], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /server-chain\.crt/);
  assert.match(r.stdout, /server\.key/);
  assert.match(r.stdout, /crl\.pem/);
  assert.doesNotMatch(r.stdout, /ca\.key|dut1\.key/);
});

test('podman: a farm on the default image runs the image `ipxe-farm nginx image` built when the official one is not here, and says so', async (t) => {
  const skip = reason();
  if (skip) return t.skip(skip);
  if (spawnSync('podman', ['image', 'exists', OFFICIAL_NGINX_IMAGE]).status === 0) return t.skip(`SKIPPED: ${OFFICIAL_NGINX_IMAGE} is on this machine, so the default image is the official one (the local-image choice was NOT tested)`);
  const f = await nginxTestFarm('podman');
  assert.equal(f.farm.nginx.image, OFFICIAL_NGINX_IMAGE);
  const rt = new PodmanNginxRuntime(f.farm, f.layout);
  try {
    await rt.up();
    const ran = spawnSync('podman', ['container', 'inspect', '--format', '{{.ImageName}}', f.farm.nginx.container], { encoding: 'utf8' }).stdout.trim();
    assert.match(ran, /^localhost\/ipxe-farm-nginx:\d/);
    const st = spawnSync(process.execPath, [cli, 'nginx', 'status'], { cwd: f.root, encoding: 'utf8', env: process.env });
    assert.match(st.stdout, /image: localhost\/ipxe-farm-nginx:\S+ \(built here from this machine's nginx packages/);
    // Workers run as the image's nginx user (uid 101): the group the boot service's socket admits.
    const ps = spawnSync('podman', ['top', f.farm.nginx.container, 'user', 'args'], { encoding: 'utf8' }).stdout;
    assert.match(ps, /nginx\s+nginx: worker process/);
  } finally {
    await rt.down();
  }
});

test('podman: on a machine with no nginx image that cannot pull one, `nginx up` offers `ipxe-farm nginx image`', { timeout: 180_000 }, async (t) => {
  const skip = reason();
  if (skip) return t.skip(skip);
  // An empty image store of its own (podman honours CONTAINERS_STORAGE_CONF): the machine without any image. Its
  // libpod state (tmp_dir) is its own too: sharing /run/libpod, a reset of this store made the machine's podman
  // "refresh" every container as after a reboot, leaving running ones `created` and their port forwards behind.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'podman-empty-store-'));
  writeFileSync(path.join(dir, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/graph"\nrunroot = "${dir}/run"\n`);
  writeFileSync(path.join(dir, 'containers.conf'), withEngineSetting(process.env.CONTAINERS_CONF, `tmp_dir = "${dir}/libpod"`));
  const env = { ...process.env, CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'), CONTAINERS_CONF: path.join(dir, 'containers.conf') };
  const f = await nginxTestFarm('podman');
  // A container of the real store, publishing a port, stands for whatever else runs on the machine (other tests'
  // nginx at the same time): the empty store must leave it running, and removing it must remove its port forward.
  const canary = await startCanary();
  t.after(() => canary.remove());
  try {
    const r = spawnSync(process.execPath, [cli, 'nginx', 'up'], { cwd: f.root, encoding: 'utf8', env, timeout: 150_000 });
    if (r.status === 0) {
      spawnSync(process.execPath, [cli, 'nginx', 'down'], { cwd: f.root, env });
      return t.skip(`SKIPPED: this machine pulled ${OFFICIAL_NGINX_IMAGE} from Docker Hub, so the offline offer was NOT tested`);
    }
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /docker\.io\/library\/nginx:latest is not on this machine and could not be pulled.*`ipxe-farm nginx image`/s);
    assert.notEqual(spawnSync('podman', ['container', 'exists', f.farm.nginx.container], { env }).status, 0);
  } finally {
    // Not `podman system reset`: even on its own store, it empties the machine's libpod state.
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(canary.state(), 'running', 'a container of the real store is left running');
  canary.remove();
  assert.equal(canary.state(), undefined, 'and can be removed');
  assert.deepEqual(await canary.forwards(), [], `no port forward to 127.0.0.1:${canary.port} is left behind (a stale one sends that port's connections to a container that is gone)`);
});

/** The containers.conf this process uses (if any) with one more [engine] setting. */
function withEngineSetting(conf: string | undefined, line: string): string {
  const text = conf ? readFileSync(conf, 'utf8') : '';
  return /^\[engine\]$/m.test(text) ? text.replace(/^\[engine\]$/m, `[engine]\n${line}`) : `${text}\n[engine]\n${line}\n`;
}

/** A container of the machine's own store that publishes one port on 127.0.0.1. */
async function startCanary() {
  const port = await freePort();
  const name = `ipxe-farm-canary-${process.pid}`;
  const image = (setupPodman() as { image: string }).image;
  const made = spawnSync('podman', ['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:${port}`, image, 'sleep', '600'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  return {
    port,
    state: () => spawnSync('podman', ['container', 'inspect', '--format', '{{.State.Status}}', name], { encoding: 'utf8' }).stdout.trim() || undefined,
    remove: () => removeContainer(name),
    // netavark's DNAT rules, read as `nginx up` reads them; where iptables cannot be read, there is nothing to compare.
    forwards: () => portForwards([port], '127.0.0.1'),
  };
}

test('podman: a container that exited shows its last log lines in status, and up replaces it', async (t) => {
  const skip = reason();
  if (skip) return t.skip(skip);
  const f = await nginxTestFarm('podman');
  const rt = new PodmanNginxRuntime(f.farm, f.layout);
  try {
    await rt.up();
    assert.equal((await httpsGet(f.layout, f.farm.server.httpsPort, '/before-the-crash', clientIdentity(f.layout, 'dut1'))).status, 404);
    spawnSync('podman', ['kill', f.farm.nginx.container]);
    const st = await rt.status();
    assert.equal(st.state, 'exited');
    assert.match(st.lastLog ?? '', /before-the-crash/);
    assert.equal((await rt.up()).state, 'running');
  } finally {
    await rt.down();
  }
  assert.notEqual(spawnSync('podman', ['container', 'exists', f.farm.nginx.container]).status, 0, 'down removes the container');
});

test('podman: the warm exec shell answers like exec, and a dead container is an error (the runtime then falls back to exec)', async (t) => {
  const skip = reason();
  if (skip) return t.skip(skip);
  const gone = new ContainerShell('podman', 'ipxe-farm-no-such-container');
  await assert.rejects(gone.run(['true'], 20_000), /ended|did not answer/);
  gone.close();
  const f = await nginxTestFarm('podman');
  const rt = new PodmanNginxRuntime(f.farm, f.layout);
  try {
    await rt.up();
    const shell = new ContainerShell('podman', f.farm.nginx.container);
    try {
      const ok = await shell.run(rt.nginxArgs(['-t', '-q']));
      assert.equal(ok.exitCode, 0, ok.output);
      const bad = await shell.run(['nginx', '-t', '-c', '/nonexistent.conf']);
      assert.equal(bad.exitCode, 1);
      assert.match(bad.output, /open\(\) "\/nonexistent\.conf" failed/);
      const quoted = await shell.run(['sh', '-c', 'echo "$0"', `it's; $HOME`]);
      assert.equal(quoted.output.trim(), `it's; $HOME`);
    } finally {
      shell.close();
    }
  } finally {
    await rt.down();
  }
});

test('podman: a container of the same name that is not this farm\'s is never replaced or removed', async (t) => {
  const skip = reason();
  if (skip) return t.skip(skip);
  const f = await nginxTestFarm('podman');
  const name = f.farm.nginx.container;
  const made = spawnSync('podman', ['create', '--name', name, (setupPodman() as { image: string }).image, '/bin/true'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  try {
    const rt = new PodmanNginxRuntime(f.farm, f.layout);
    const foreign = (e: FarmError) => e.code === 'ECONTAINERNAME' && /was not made by iPXE Farm/.test(e.message) && /nginx\.container/.test(e.sentence);
    await assert.rejects(rt.up(), foreign);
    await assert.rejects(rt.down(), foreign);
    assert.equal(spawnSync('podman', ['container', 'exists', name]).status, 0, 'the other container is still there');
  } finally {
    removeContainer(name);
  }
});
