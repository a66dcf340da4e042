import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { farmLayout } from '../../../src/core/farm/layout';
import { updateFarm } from '../../../src/core/farm/load';
import { pkiPaths, readPkiIndex, revoke } from '../../../src/core/pki';
import { setSecret } from '../../../src/core/secrets/store';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { parseIpxeScript } from '../../unit/boot/ipxeParse';
import { socketGet } from './socketClient';

// Issue 13, finding 1 (HIGH), through the real boot service on its unix socket: the PKI index, the secrets and the farm
// file are loaded independently, so a revocation or a secret rotation counts whatever else is wrong in the farm file,
// a client whose own mapping is broken is refused with its reason, and every other client keeps being served.

const OLD = 'old-secret-Aq1Sw2De3';
const NEW = 'new-secret-Zx9Cv8Bn7';
const services: BootService[] = [];
after(async () => { for (const s of services) await s.close().catch(() => undefined); });

type Raw = Record<string, Record<string, Record<string, unknown>>>;

async function setup() {
  const root = await farmWithPki();
  const layout = farmLayout(root);
  fs.writeFileSync(path.join(layout.files, 'vmlinuz'), 'k');
  await setSecret(root, 's3key', OLD);
  await updateFarm(root, (raw) => {
    raw.profiles = {
      p1: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 who={{client.name}} key={{secret.s3key}} gen=0', verify: false, extra: [] },
      p2: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 who={{client.name}} disk={{client.vars.disk}} key={{secret.s3key}}', verify: false, extra: [] },
    };
    raw.clients = { dut1: { profile: 'p1', macs: [], vars: {} }, dut2: { profile: 'p2', macs: [], vars: { disk: '/dev/vda' } } };
  });
  const logs: string[] = [];
  const svc = await startBootService({ root, log: (l) => logs.push(l), reloadIntervalMs: 60_000 });
  services.push(svc);
  const idx = await readPkiIndex(root);
  const fp = (n: string) => idx.records.find((r) => r.kind === 'client' && r.name === n)!.sha1;
  const get = (client: string, p = '/boot.ipxe') => socketGet(svc.socket, p, { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': fp(client) });
  return { root, layout, svc, logs, get };
}

/** The two echo lines of a refusal script (and nothing but echo/exit in it). */
function refusal(body: string): string[] {
  const cmds = parseIpxeScript(body).commands;
  assert.deepEqual(cmds.map((c) => c.argv[0]), ['echo', 'echo', 'exit'], body);
  return cmds.slice(0, 2).map((c) => c.argv.slice(1).join(' '));
}

/** A hand edit of the farm file (what `profile add next --kernel vmlinuz-6.12` wrote before the CLI refused it). */
async function addMissingKernelProfile(root: string): Promise<void> {
  await updateFarm(root, (raw) => { (raw as Raw).profiles!.next = { kernel: 'vmlinuz-6.12', initrds: [], cmdline: '', verify: false, extra: [] }; });
}

test('finding 1: revoke counts at the next request while another profile names a missing kernel (memo included)', async () => {
  const { root, svc, get, logs } = await setup();
  // Twice: the second answer comes from the service's memory, which must not outlive the revocation either.
  for (let i = 0; i < 2; i++) assert.equal((await get('dut1')).status, 200);
  await addMissingKernelProfile(root);
  await svc.reloader.check();
  await revoke(root, 'dut1');
  await svc.reloader.check();
  const r = await get('dut1');
  assert.equal(r.status, 403, r.body);
  assert.match(refusal(r.body)[1]!, /certificate serial \w+ of client dut1 was revoked/);
  const why = await get('dut1', '/why.ipxe');
  assert.equal(why.status, 200);
  assert.match(refusal(why.body)[1]!, /was revoked/);
  assert.ok(!why.body.includes('is allowed'));
  // dut2 has nothing to do with the missing kernel and keeps booting.
  assert.equal((await get('dut2')).status, 200);
  assert.ok(logs.some((l) => /vmlinuz-6\.12/.test(l)), `the service says what is wrong with the farm file:\n${logs.join('\n')}`);
});

test('finding 1: secret set takes effect at the next boot while the farm file has an unrelated error', async () => {
  const { root, svc, get } = await setup();
  assert.match((await get('dut2')).body, new RegExp(`key=${OLD}`));
  await addMissingKernelProfile(root);
  await svc.reloader.check();
  await setSecret(root, 's3key', NEW);
  await svc.reloader.check();
  const r = await get('dut2');
  assert.equal(r.status, 200, r.body);
  assert.ok(r.body.includes(`key=${NEW}`) && !r.body.includes(OLD), r.body);
});

test('finding 1: revoke and secret set count while the farm file is not even JSON (the last good mappings serve)', async () => {
  const { root, layout, svc, get } = await setup();
  fs.writeFileSync(layout.farmFile, fs.readFileSync(layout.farmFile, 'utf8').replace('"profiles"', '"profiles" oops'));
  await svc.reloader.check();
  await revoke(root, 'dut1');
  await setSecret(root, 's3key', NEW);
  await svc.reloader.check();
  assert.equal((await get('dut1')).status, 403);
  const r = await get('dut2');
  assert.equal(r.status, 200, r.body);
  assert.ok(r.body.includes(`key=${NEW}`), r.body);
});

// Each way of breaking one client's own mapping: that client is refused with the reason, the other keeps booting on
// the farm file as it is now (its new cmdline, not an old script).
const BREAKS: [string, (raw: Raw) => void, RegExp][] = [
  ['a variable holding ||', (raw) => { raw.clients!.dut2!.vars = { disk: 'a || shell' }; }, /\|\|/],
  ['a variable holding ${', (raw) => { raw.clients!.dut2!.vars = { disk: '${net0/ip}' }; }, /expansion/],
  ['a variable holding "', (raw) => { raw.clients!.dut2!.vars = { disk: 'a"b' }; }, /double quote/],
  ['a variable holding two spaces', (raw) => { raw.clients!.dut2!.vars = { disk: 'a  b' }; }, /several spaces/],
  ['{{secret.nope}}', (raw) => { raw.profiles!.p2!.cmdline = 'k={{secret.nope}}'; }, /secret "nope"/],
  ['{{bogus}}', (raw) => { raw.profiles!.p2!.cmdline = 'k={{bogus}}'; }, /\{\{bogus\}\}/],
  ['--kernel ../../etc/passwd', (raw) => { raw.profiles!.p2!.kernel = '../../etc/passwd'; }, /leaves the files\/ folder/],
  ['a missing kernel', (raw) => { raw.profiles!.p2!.kernel = 'vmlinuz-6.12'; }, /vmlinuz-6\.12.*does not exist/],
];

test('finding 1: a client whose own mapping is broken is refused with that reason; the others are served the current farm', async () => {
  const { root, svc, get } = await setup();
  let gen = 0;
  for (const [what, breakIt, reason] of BREAKS) {
    gen++;
    await updateFarm(root, (raw) => {
      const r = raw as Raw;
      r.profiles!.p1!.cmdline = `console=ttyS0 who={{client.name}} key={{secret.s3key}} gen=${gen}`;
      r.profiles!.p2 = { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 who={{client.name}} disk={{client.vars.disk}} key={{secret.s3key}}', verify: false, extra: [] };
      r.clients!.dut2!.vars = { disk: '/dev/vda' };
      breakIt(r);
    });
    await svc.reloader.check();
    const bad = await get('dut2');
    assert.equal(bad.status, 403, `${what}: ${bad.body}`);
    const said = refusal(bad.body);
    assert.equal(said[0], 'iPXE Farm refused this machine:', what);
    assert.match(said[1]!, reason, what);
    assert.match(said[1]!, /dut2|p2/, `${what}: the reason names the mapping`);
    const why = await get('dut2', '/why.ipxe');
    assert.deepEqual(refusal(why.body), said, `${what}: /why.ipxe says the same`);
    const good = await get('dut1');
    assert.equal(good.status, 200, `${what}: ${good.body}`);
    assert.match(good.body, new RegExp(`gen=${gen}\\b`), `${what}: dut1 gets the farm file as it is now`);
  }
});

test('finding 1: an in-place edit of the farm file with its mtime restored is still picked up', async () => {
  const { layout, svc, get } = await setup();
  assert.match((await get('dut1')).body, /gen=0/);
  // A whole-second mtime, so that putting it back is exact (utimes takes seconds as a double).
  fs.utimesSync(layout.farmFile, 1_700_000_000, 1_700_000_000);
  await svc.reloader.check();
  const st = fs.statSync(layout.farmFile);
  const text = fs.readFileSync(layout.farmFile, 'utf8');
  assert.ok(text.includes('gen=0'));
  // Same inode, same size, same mtime: only the content (and the ctime nobody can set) differs.
  const fd = fs.openSync(layout.farmFile, 'r+');
  fs.writeSync(fd, text.replace('gen=0', 'gen=7'), 0, 'utf8');
  fs.closeSync(fd);
  fs.utimesSync(layout.farmFile, 1_700_000_000, 1_700_000_000);
  assert.equal(fs.statSync(layout.farmFile).size, st.size);
  assert.equal(fs.statSync(layout.farmFile).mtimeMs, st.mtimeMs);
  await svc.reloader.check();
  assert.match((await get('dut1')).body, /gen=7/);
});

test('finding 1: a PKI index that cannot be read refuses every certificate with the reason (fail closed)', async () => {
  const { layout, svc, get } = await setup();
  assert.equal((await get('dut1')).status, 200);
  fs.writeFileSync(pkiPaths(layout).index, '{ not json');
  await svc.reloader.check();
  const r = await get('dut1');
  assert.equal(r.status, 403, r.body);
  assert.match(refusal(r.body)[1]!, /PKI index/);
});

test('finding 1: a broken profile refuses each of its clients with the profile\'s reason, naming no other machine', async () => {
  const { root, svc, get } = await setup();
  await updateFarm(root, (raw) => {
    const r = raw as Raw;
    r.clients!.dut2!.profile = 'p1';
    r.profiles!.p1!.cmdline = 'console=ttyS0\nshell';
  });
  await svc.reloader.check();
  for (const [me, other] of [['dut1', 'dut2'], ['dut2', 'dut1']] as const) {
    for (const p of ['/boot.ipxe', '/why.ipxe']) {
      const r = await get(me, p);
      const said = refusal(r.body);
      assert.match(said[1]!, new RegExp(`profile p1 of client ${me} is broken: .*line break`), `${me} ${p}`);
      assert.ok(!r.body.includes(other), `${me} ${p} names no other client: ${r.body}`);
    }
  }
});
