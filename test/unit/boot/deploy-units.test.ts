import { test } from 'node:test';
import assert from 'node:assert/strict';
import { farmLayout } from '../../../src/core/farm/layout';
import { starterFarm } from '../../../src/core/farm/model';
import { deployUnits, unitPath } from '../../../src/core/deploy/units';

const farm = starterFarm('lab');
const layout = farmLayout('/srv/farm');

test('systemd: the boot service restarts on failure, sees the farm read-only, writes only its runtime folder', () => {
  const [boot, socket, nginx] = deployUnits(farm, layout, 'systemd');
  assert.equal(boot!.name, 'ipxe-farm-lab-boot.service');
  assert.match(boot!.text, /^ExecStart=\/usr\/local\/bin\/ipxe-farm serve --farm \/srv\/farm$/m);
  assert.match(boot!.text, /^Restart=on-failure$/m);
  assert.match(boot!.text, /^ReadOnlyPaths=\/srv\/farm$/m);
  assert.match(boot!.text, /^ReadWritePaths=\/srv\/farm\/\.ipxe-farm$/m);
  // systemd holds the socket across restarts; only the nginx container, where the socket folder is mounted, may connect:
  // on the host the runtime folder is 0700, and no host group (gid 101 is Debian's _ssh) is involved.
  assert.match(boot!.text, /^Requires=ipxe-farm-lab-boot\.socket$/m);
  assert.equal(socket!.name, 'ipxe-farm-lab-boot.socket');
  assert.match(socket!.text, /^ListenStream=\/srv\/farm\/\.ipxe-farm\/run\/boot\.sock$/m);
  assert.match(socket!.text, /^SocketMode=0666$/m);
  assert.doesNotMatch(socket!.text, /SocketGroup|-g 101/);
  assert.match(socket!.text, /^ExecStartPre=\/usr\/bin\/install -d -m 0700 \/srv\/farm\/\.ipxe-farm$/m);
  assert.match(socket!.text, /^ExecStartPre=\/usr\/bin\/install -d -m 0711 \/srv\/farm\/\.ipxe-farm\/run$/m);
  assert.equal(nginx!.name, 'ipxe-farm-lab-nginx.service');
  assert.match(nginx!.text, /^Restart=on-failure$/m);
  assert.match(nginx!.text, /-v \/srv\/farm\/\.ipxe-farm\/run:\/srv\/farm\/\.ipxe-farm\/run /);
  assert.match(nginx!.text, /-v \/srv\/farm\/files:\/srv\/farm\/files:ro/);
  assert.match(nginx!.text, /-v \/srv\/farm\/nginx:\/srv\/farm\/nginx:ro/);
  // The config is tested in a throwaway container before the real one starts.
  assert.match(nginx!.text, /^ExecStartPre=\/usr\/bin\/podman run --rm --network none .* -t -q$/m);
  assert.ok(!/ca\.key/.test(nginx!.text));
});

test('quadlet: a .container for nginx sharing the socket folder, plus the boot service unit', () => {
  const units = deployUnits(farm, layout, 'quadlet');
  assert.deepEqual(units.map((u) => u.name), ['ipxe-farm-lab-boot.service', 'ipxe-farm-lab-boot.socket', 'ipxe-farm-lab-nginx.container', 'ipxe-farm-lab-nginx-pki.service', 'ipxe-farm-lab-metrics.service']);
  const c = units[2]!.text;
  assert.match(c, /^Volume=\/srv\/farm\/\.ipxe-farm\/run:\/srv\/farm\/\.ipxe-farm\/run$/m);
  assert.match(c, /^PublishPort=8443:8443$/m);
  assert.match(c, /^Image=docker\.io\/library\/nginx:latest$/m);
});

test('paths that would misparse in a unit are refused', () => {
  assert.throws(() => unitPath('/srv/my farm'), /cannot go into a systemd unit/);
  assert.throws(() => unitPath('relative/path'), /absolute/);
  assert.throws(() => deployUnits(farm, farmLayout('/srv/a b'), 'systemd'), /cannot go into a systemd unit/);
});

test('both kinds deploy the metrics exporter, read-only to the farm, on the listener the farm file names', () => {
  for (const kind of ['systemd', 'quadlet'] as const) {
    const m = deployUnits({ ...farm, metrics: { listen: '10.1.0.2:9464' } }, layout, kind).at(-1)!;
    assert.equal(m.name, 'ipxe-farm-lab-metrics.service');
    assert.match(m.text, /^ExecStart=\/usr\/local\/bin\/ipxe-farm metrics --farm \/srv\/farm$/m);
    assert.match(m.text, /^ReadOnlyPaths=\/srv\/farm$/m);
    assert.match(m.text, /10\.1\.0\.2:9464/);
  }
});
