import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { farmLayout } from '../../../src/core/farm/layout';
import { updateFarm } from '../../../src/core/farm/load';
import { readPkiIndex, revoke } from '../../../src/core/pki';
import { setSecret } from '../../../src/core/secrets/store';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { socketGet } from './socketClient';

// Issue 13's promise, with no reloader.check() and a safety poll that never comes within the test (60 s): a revocation,
// a secret rotation and an edit of the farm file count at the very next request once the command that made them has
// returned. The service is told by the watch on the folders that hold the files (written by rename, or in place).

const services: BootService[] = [];
after(async () => { for (const s of services) await s.close().catch(() => undefined); });

async function setup() {
  const root = await farmWithPki();
  const layout = farmLayout(root);
  fs.writeFileSync(path.join(layout.files, 'vmlinuz'), 'k');
  await setSecret(root, 's3key', 'old-secret-Aq1Sw2De3');
  await updateFarm(root, (raw) => {
    raw.profiles = { p1: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 who={{client.name}} key={{secret.s3key}} gen=0', verify: false, extra: [] } };
    raw.clients = { dut1: { profile: 'p1', macs: [], vars: {} }, dut2: { profile: 'p1', macs: [], vars: {} } };
  });
  const svc = await startBootService({ root, log: () => undefined, reloadIntervalMs: 60_000 });
  services.push(svc);
  const idx = await readPkiIndex(root);
  const fp = (n: string) => idx.records.find((r) => r.kind === 'client' && r.name === n)!.sha1;
  const get = (client: string) => socketGet(svc.socket, '/boot.ipxe', { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': fp(client) });
  return { root, layout, get };
}

test('revoke (the index replaced by rename) counts at the next request, without a poll', async () => {
  const { root, get } = await setup();
  assert.equal((await get('dut1')).status, 200);
  await revoke(root, 'dut1');
  const r = await get('dut1');
  assert.equal(r.status, 403, r.body);
  assert.match(r.body, /revoked/);
  assert.equal((await get('dut2')).status, 200);
});

test('secret set counts at the next request, without a poll', async () => {
  const { root, get } = await setup();
  assert.match((await get('dut1')).body, /key=old-secret-Aq1Sw2De3/);
  for (const value of ['new-secret-Zx9Cv8Bn7', 'third-secret-Qw3Er4Ty5']) {
    await setSecret(root, 's3key', value);
    const r = await get('dut1');
    assert.equal(r.status, 200, r.body);
    assert.ok(r.body.includes(`key=${value}`), r.body);
  }
});

test('an edit of the farm file written in place (as an editor saves) counts at the next request', async () => {
  const { layout, get } = await setup();
  assert.match((await get('dut2')).body, /gen=0/);
  fs.writeFileSync(layout.farmFile, fs.readFileSync(layout.farmFile, 'utf8').replace('gen=0', 'gen=1'));
  assert.match((await get('dut2')).body, /gen=1/);
});

test('after the pki folder itself is replaced (a restore from backup), a revocation still counts at the next request', async () => {
  const { root, layout, get } = await setup();
  assert.equal((await get('dut1')).status, 200);
  // The watch followed the old folder away: the service must notice that and watch the folder now at that path.
  fs.renameSync(layout.pki, `${layout.pki}.old`);
  fs.cpSync(`${layout.pki}.old`, layout.pki, { recursive: true });
  assert.equal((await get('dut1')).status, 200);
  await revoke(root, 'dut1');
  assert.equal((await get('dut1')).status, 403);
});

test('while a folder cannot be watched (the pki folder moved away), each request compares the files itself', async () => {
  const { layout, root, get } = await setup();
  fs.renameSync(layout.pki, `${layout.pki}.away`);
  const refused = await get('dut1');
  assert.equal(refused.status, 403, refused.body);
  assert.match(refused.body, /PKI index/);
  // No watch reports the folder's return (the farm folder's watch is for its own files): only the request's own look does.
  fs.renameSync(`${layout.pki}.away`, layout.pki);
  assert.equal((await get('dut1')).status, 200);
  await revoke(root, 'dut1');
  assert.equal((await get('dut1')).status, 403);
});
