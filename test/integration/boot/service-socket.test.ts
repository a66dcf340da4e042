import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { readPkiIndex, revoke } from '../../../src/core/pki';
import { setSecret } from '../../../src/core/secrets/store';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { bootSocketAccess } from '../../../src/core/nginx/socketAccess';
import { readLastBoots, readBootEvents } from '../../../src/core/boot/events';
import { parseIpxeScript } from '../../unit/boot/ipxeParse';
import { socketGet } from './socketClient';
import { resolveRuntime } from '../../../src/core/farm/runtimeChoice';

const SECRET1 = 'dut1-S3cret-9f8e7d';
const SECRET2 = 'dut2-0ther-a1b2c3';
const services: BootService[] = [];
after(async () => { for (const s of services) await s.close().catch(() => undefined); });

async function setup() {
  const root = await farmWithPki();
  const layout = farmLayout(root);
  fs.writeFileSync(path.join(layout.files, 'vmlinuz'), 'k');
  await setSecret(root, 'tok1', SECRET1);
  await setSecret(root, 'tok2', SECRET2);
  await updateFarm(root, (raw) => {
    raw.profiles = {
      p1: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 who={{client.name}} token={{secret.tok1}}', verify: false, extra: [] },
      p2: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 who={{client.name}} token={{secret.tok2}}', verify: false, extra: [] },
    };
    raw.clients = { dut1: { profile: 'p1', macs: ['52:54:00:00:00:01'], vars: {} }, dut2: { profile: 'p2', macs: ['52:54:00:00:00:02'], vars: {} } };
  });
  const logs: string[] = [];
  const svc = await startBootService({ root, log: (l) => logs.push(l), reloadIntervalMs: 50 });
  services.push(svc);
  const idx = await readPkiIndex(root);
  const cert = (n: string) => idx.records.find((r) => r.kind === 'client' && r.name === n)!;
  return { root, layout, svc, logs, cert };
}

const ok = (fp: string) => ({ 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': fp });

test('the socket is open to nginx alone (local: 0660 in a 0750 folder of its group; podman: the runtime folder is 0700 on the host); each client gets its own script and secret; events are logged without secrets', async () => {
  const { root, layout, svc, logs, cert } = await setup();
  const mode = (p: string) => fs.statSync(p).mode & 0o777;
  if (bootSocketAccess((await loadFarm(root)).farm, resolveRuntime((await loadFarm(root)).farm, farmLayout(root)).kind).kind === 'container') {
    assert.deepEqual([mode(layout.runtime), mode(layout.socketDir), mode(svc.socket)], [0o700, 0o711, 0o666]);
  } else {
    assert.deepEqual([mode(layout.socketDir), mode(svc.socket)], [0o750, 0o660]);
  }

  const r1 = await socketGet(svc.socket, '/boot.ipxe', ok(cert('dut1').sha1));
  assert.equal(r1.status, 200);
  assert.ok(r1.body.includes(`token=${SECRET1}`) && !r1.body.includes(SECRET2));
  const p = parseIpxeScript(r1.body);
  assert.ok(p.shebang);
  assert.deepEqual(p.commands.map((c) => c.argv[0]), ['kernel', 'boot']);

  const r2 = await socketGet(svc.socket, '/ipxe', { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Serial': cert('dut2').serial });
  assert.equal(r2.status, 200);
  assert.ok(r2.body.includes(`token=${SECRET2}`) && r2.body.includes('who=dut2'));

  const r3 = await socketGet(svc.socket, '/ipxe/52%3A54%3A00%3A00%3A00%3A01', ok(cert('dut1').sha1));
  assert.equal(r3.status, 200);

  const last = await readLastBoots(root);
  assert.equal(last.dut1?.status, 200);
  assert.equal(last.dut1?.profile, 'p1');
  assert.equal(last.dut2?.profile, 'p2');
  const eventsText = fs.readFileSync(layout.bootEvents, 'utf8');
  for (const s of [SECRET1, SECRET2]) {
    assert.ok(!eventsText.includes(s), 'no secret in boot events');
    assert.ok(!logs.join('\n').includes(s), 'no secret in the service log');
  }
});

test('refusals: no nginx headers, Verify FAILED/NONE, unknown, revoked, another client\'s MAC, duplicated headers', async () => {
  const { root, svc, cert } = await setup();
  const cases: [string, string, Record<string, string | string[]>, number, RegExp][] = [
    ['no headers (straight to the socket)', '/boot.ipxe', {}, 403, /did not come through/],
    ['verify FAILED', '/boot.ipxe', { 'X-SSL-Client-Verify': 'FAILED:certificate revoked', 'X-SSL-Client-Fingerprint': cert('dut1').sha1 }, 403, /could not verify/],
    ['verify NONE', '/boot.ipxe', { 'X-SSL-Client-Verify': 'NONE' }, 403, /no client certificate/],
    ['unknown fingerprint', '/boot.ipxe', ok('ab'.repeat(20)), 403, /not in the farm's PKI index/],
    ['MAC of another client', '/ipxe/52:54:00:00:00:02', ok(cert('dut1').sha1), 403, /not one of client dut1's MACs/],
    ['duplicated verify header', '/boot.ipxe', { 'X-SSL-Client-Verify': ['SUCCESS', 'SUCCESS'], 'X-SSL-Client-Fingerprint': cert('dut1').sha1 }, 403, /more than once/],
    ['path traversal', '/ipxe/../boot.ipxe', ok(cert('dut1').sha1), 404, /unknown path/],
    ['encoded traversal', '/ipxe/..%2f..%2fsecrets.json', ok(cert('dut1').sha1), 404, /unknown path/],
    ['unknown path', '/secrets.json', ok(cert('dut1').sha1), 404, /unknown path/],
    ['over-long URL', `/ipxe/${'a'.repeat(400)}`, ok(cert('dut1').sha1), 414, /too long/],
  ];
  for (const [what, url, headers, status, reason] of cases) {
    const r = await socketGet(svc.socket, url, headers);
    assert.equal(r.status, status, what);
    assert.match(r.body, reason, what);
    const parsed = parseIpxeScript(r.body);
    assert.ok(parsed.shebang, what);
    assert.deepEqual(parsed.commands.map((c) => c.argv[0]), ['echo', 'echo', 'exit'], `${what}: only echo and exit`);
  }
  const post = await socketGet(svc.socket, '/boot.ipxe', ok(cert('dut1').sha1), 'POST');
  assert.equal(post.status, 405);

  // Answered twice, so the second came from the service's memory of it: the revocation must still count at once.
  for (let i = 0; i < 2; i++) assert.equal((await socketGet(svc.socket, '/boot.ipxe', ok(cert('dut1').sha1))).status, 200);
  await revoke(root, 'dut1');
  await svc.reloader.check();
  const rv = await socketGet(svc.socket, '/boot.ipxe', ok(cert('dut1').sha1));
  assert.equal(rv.status, 403);
  assert.match(rv.body, /revoked/);
  const events = await readBootEvents(root);
  assert.ok(events.some((e) => e.status === 403 && e.client === 'dut1' && /revoked/.test(e.reason ?? '')));
});

test('reload without restart; a malformed farm file keeps the last good one serving, a broken mapping refuses its clients, and says why', async () => {
  const { root, layout, svc, logs, cert } = await setup();
  await updateFarm(root, (raw) => { (raw.profiles as Record<string, Record<string, unknown>>).p1!.cmdline = 'changed={{client.name}}'; });
  await svc.reloader.check();
  let r = await socketGet(svc.socket, '/boot.ipxe', ok(cert('dut1').sha1));
  assert.match(r.body, /changed=dut1/);

  const good = fs.readFileSync(layout.farmFile, 'utf8');
  fs.writeFileSync(layout.farmFile, good.replace('"profiles"', '"profiles" oops'));
  await svc.reloader.check();
  r = await socketGet(svc.socket, '/boot.ipxe', ok(cert('dut1').sha1));
  assert.equal(r.status, 200);
  assert.match(r.body, /changed=dut1/);
  assert.ok(logs.some((l) => /kept serving the last good farm: .*not valid JSON/.test(l)), logs.join('\n'));

  // A cmdline with a newline is refused at load time: its clients are refused with the reason, never an older script
  // (issue 13); the other profile's client is still served.
  fs.writeFileSync(layout.farmFile, good.replace('changed={{client.name}}', 'x=1\\nshell'));
  await svc.reloader.check();
  r = await socketGet(svc.socket, '/boot.ipxe', ok(cert('dut1').sha1));
  assert.equal(r.status, 403, r.body);
  assert.match(r.body, /profile p1 of client dut1 is broken: .*line break/);
  assert.equal((await socketGet(svc.socket, '/boot.ipxe', ok(cert('dut2').sha1))).status, 200);
  assert.ok(logs.some((l) => /profile p1 cannot boot .*line break/.test(l)), logs.join('\n'));

  // Once the farm file is good again, a secret changed on disk is picked up.
  fs.writeFileSync(layout.farmFile, good);
  await setSecret(root, 'tok2', 'rotated-secret-value');
  await svc.reloader.check();
  r = await socketGet(svc.socket, '/boot.ipxe', ok(cert('dut2').sha1));
  assert.match(r.body, /token=rotated-secret-value/);
});

test('requests keep being answered while the farm is reloaded over and over', async () => {
  const { root, svc, cert } = await setup();
  let stop = false;
  const writer = (async () => {
    let i = 0;
    while (!stop) {
      await updateFarm(root, (raw) => { (raw.profiles as Record<string, Record<string, unknown>>).p1!.cmdline = `gen=${i++} t={{secret.tok1}}`; });
      await svc.reloader.check();
    }
  })();
  const results = await Promise.all(Array.from({ length: 200 }, () => socketGet(svc.socket, '/boot.ipxe', ok(cert('dut1').sha1))));
  stop = true;
  await writer;
  assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
  assert.ok(results.every((r) => /^kernel .*(gen=\d+ t=|token=)dut1-S3cret/m.test(r.body)));
});
