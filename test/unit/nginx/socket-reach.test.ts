import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { starterFarm } from '../../../src/core/farm/model';
import { describeSocketReach } from '../../../src/core/nginx/socketReach';
import { resolveRuntime } from '../../../src/core/farm/runtimeChoice';

// What `nginx status` and `doctor` say about the boot socket comes from the file system as it is: these cases set the
// modes by hand (as a mistaken chmod or an older version would leave them) and read the verdict.

const top = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-'));
const layout = farmLayout(path.join(top, 'lab'));
const farm = { ...starterFarm('lab'), nginx: { ...starterFarm('lab').nginx, runtime: 'local' as const } };
let server: net.Server;

before(async () => {
  fs.chmodSync(top, 0o711); // as a home folder: others may pass
  fs.mkdirSync(layout.socketDir, { recursive: true });
  server = net.createServer();
  await new Promise<void>((r) => server.listen(layout.bootSocket, r));
});

after(() => { server.close(); fs.rmSync(top, { recursive: true, force: true }); });

function modes(runtime: number, run: number, socket: number, gid = -1): void {
  fs.chmodSync(layout.runtime, runtime);
  fs.chmodSync(layout.socketDir, run);
  fs.chmodSync(layout.bootSocket, socket);
  if (gid >= 0) for (const p of [layout.runtime, layout.socketDir, layout.bootSocket]) fs.chownSync(p, -1, gid);
}

test('a socket every user can open is a failure, with the fix', () => {
  modes(0o755, 0o755, 0o666);
  const r = describeSocketReach({ farm, layout, runtime: resolveRuntime(farm, layout) });
  assert.equal(r.ok, false);
  assert.match(r.text, /can be reached by EVERY user of this machine/);
  assert.match(r.fix ?? '', /0700/);
});

test('the same socket behind a 0700 runtime folder reaches its owner only', () => {
  modes(0o700, 0o755, 0o666);
  const r = describeSocketReach({ farm, layout, runtime: resolveRuntime(farm, layout) });
  assert.equal(r.ok, true, r.text);
  assert.doesNotMatch(r.text, /EVERY|members of group/);
});

test('a group that is not nginx\'s workers\' (gid 101, Debian\'s _ssh) is a failure', (t) => {
  if (process.getuid?.() !== 0) return t.skip('SKIPPED LOUDLY: giving files to another group needs root');
  modes(0o710, 0o750, 0o660, 101);
  const r = describeSocketReach({ farm, layout, runtime: resolveRuntime(farm, layout) });
  assert.equal(r.ok, false, r.text);
  assert.match(r.text, /members of group \S+ \(gid 101\).* is not nginx's/);
});

test('no socket: the boot service is not running, which exposes nothing', () => {
  const r = describeSocketReach({ farm, layout, runtime: resolveRuntime(farm, layout) }, path.join(layout.socketDir, 'absent.sock'));
  assert.equal(r.ok, true);
  assert.match(r.text, /not running/);
});
