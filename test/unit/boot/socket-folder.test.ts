import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareSocketPath } from '../../../src/core/boot/socketPath';
import { farmLayout } from '../../../src/core/farm/layout';

// A socket placed by --socket into a folder that is not the farm's (e.g. /tmp) must not change that folder: seen on
// this machine, /tmp turned 0750 root:www-data and every other user of /tmp failed.
for (const access of [{ kind: 'group' as const, gid: process.getgid!() }, { kind: 'container' as const, container: 'x' }]) {
  test(`a socket outside the farm (${access.kind} access) leaves its existing folder's mode and group alone`, async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-sockdir-'));
    try {
      const shared = path.join(base, 'shared');
      fs.mkdirSync(shared);
      fs.chmodSync(shared, 0o1777);
      const layout = farmLayout(path.join(base, 'farm'));
      await prepareSocketPath(layout, path.join(shared, 'boot.sock'), access, () => undefined);
      assert.equal(fs.statSync(shared).mode & 0o7777, 0o1777);
      // The farm's own socket folder still gets the mode its access rule asks for.
      await prepareSocketPath(layout, layout.bootSocket, access, () => undefined);
      assert.equal(fs.statSync(layout.socketDir).mode & 0o777, access.kind === 'container' ? 0o711 : 0o750);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
}
