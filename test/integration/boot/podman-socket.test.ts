import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { removeContainer, setupPodman } from '../../support/podman';
import { which } from '../../support/farm';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { pkiPaths } from '../../../src/core/pki';
import { generateNginxConfig, PodmanNginxRuntime } from '../../../src/core/nginx';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { httpsGet, readTls } from './httpsClient';
import { openFarm } from '../../../src/core/farm/handle';

// Finding 3 of issue 13: with the podman runtime the boot socket's group was a hard-coded gid 101, on a Debian host
// the group `_ssh`: any member could forge X-SSL-Client-* on the socket and read every script and secret. The socket
// must be reachable by the container's nginx workers and by nobody else on the host; doctor and nginx status say who.

const setup = setupPodman();
const skip = !setup.ok ? `SKIPPED LOUDLY: podman is not usable here: ${setup.reason}`
  : process.getuid?.() !== 0 ? 'SKIPPED LOUDLY: connecting as another uid/gid needs root (setpriv): the host-side check was NOT run'
    : !which('setpriv') || !which('socat') ? 'SKIPPED LOUDLY: setpriv (util-linux) and socat are needed to connect as another user' : undefined;
const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
let root = '';
let container = '';
let svc: BootService | undefined;
let runtime: PodmanNginxRuntime | undefined;

/** Whether a process of uid 65534 with only group `gid` can open the boot socket (socat exits 0 once connected). */
function canConnect(socket: string, gid: number): boolean {
  const r = spawnSync('setpriv', ['--reuid=65534', `--regid=${gid}`, '--clear-groups', 'socat', '-u', 'OPEN:/dev/null', `UNIX-CONNECT:${socket}`], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0;
}

before(async () => {
  if (skip) return;
  root = await farmWithPki('podsock');
  // As a home folder is: others may pass through the folders above the farm, so only the farm's own modes protect it.
  fs.chmodSync(path.dirname(root), 0o711);
  container = `ipxe-farm-sock-test-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'k');
  await updateFarm(root, (raw) => {
    Object.assign(raw.nginx as Record<string, unknown>, { runtime: 'podman', container });
    raw.profiles = { a: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 h={{client.name}}', verify: false, extra: [] } };
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

test('podman: the container\'s nginx reaches the boot socket; a host process in group 101 (or any other) cannot', { skip }, async () => {
  const { farm } = await loadFarm(root);
  const p = pkiPaths(farmLayout(root));
  const r = await httpsGet(farm.server.httpsPort, '/boot.ipxe', readTls(p.clientCert('dut1'), p.clientKey('dut1'), p.caCert));
  assert.equal(r.status, 200, r.body);
  assert.match(r.body, /h=dut1/);
  assert.equal(canConnect(svc!.socket, 101), false, 'gid 101 (Debian\'s _ssh) must not reach the socket');
  assert.equal(canConnect(svc!.socket, 65534), false, 'nor must anyone else');
  assert.equal(canConnect(svc!.socket, 0), false, 'nor a process that only shares root\'s group');
});

test('podman: `nginx status` and `doctor` say who can reach the boot socket', { skip }, async () => {
  const status = spawnSync(process.execPath, [cli, 'nginx', 'status'], { cwd: root, encoding: 'utf8', env: process.env });
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`Boot socket \\.ipxe-farm/run/boot\\.sock .* can be reached by root \\(its owner\\), the processes of container ${container} \\(nginx\\)`));
  assert.doesNotMatch(status.stdout, /gid 101|_ssh/);
  const doctor = spawnSync(process.execPath, [cli, 'doctor'], { cwd: root, encoding: 'utf8', env: process.env });
  assert.match(doctor.stdout, /boot-socket\s+Boot socket .* can be reached by root \(its owner\), the processes of container/);
});
