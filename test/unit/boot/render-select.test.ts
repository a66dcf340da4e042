import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempFarm } from '../../support/farm';
import { updateFarm } from '../../../src/core/farm/load';
import { renderScript } from '../../../src/core/boot/render';
import { selectBoot } from '../../../src/core/boot/select';
import { loadBootState } from '../../../src/core/boot/state';
import { checkFarmWithBoot } from '../../../src/core/boot/check';
import { bootFarm, FP1, FP2, FP3, record, writeIndex } from './fixtures';
import { parseIpxeScript } from './ipxeParse';

test('a client gets its own script: kernel, cmdline with its values, initrd, extra lines, boot', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const s = await loadBootState(root);
  const { script, secretsUsed } = renderScript({ farm: s.farm, layout: s.layout, secrets: s.secrets, clientName: 'dut1', client: s.farm.clients.dut1, profileName: 'linux' });
  const http = `http://127.0.0.1:${s.farm.server.httpPort}`;
  assert.deepEqual(secretsUsed, ['token']);
  const parsed = parseIpxeScript(script);
  assert.ok(parsed.shebang);
  assert.deepEqual(parsed.commands.map((c) => c.argv), [
    ['kernel', '--name', 'kernel', `${http}/vmlinuz`, 'console=ttyS0', 'host=dut1', 'mac=52:54:00:12:34:56', 'token=S3cr3t-T0ken/+=', 'disk=/dev/vda'],
    ['initrd', '--name', 'initrd0', `${http}/initrd.img`],
    ['echo', 'booting', 'dut1'],
    ['boot'],
  ]);
});

test('verify adds imgverify for kernel and each initrd, before boot', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const files = path.join(root, 'files');
  fs.writeFileSync(path.join(files, 'vmlinuz.sig'), 'sig');
  fs.writeFileSync(path.join(files, 'initrd.img.sig'), 'sig');
  await updateFarm(root, (raw) => { (raw.profiles as Record<string, Record<string, unknown>>).linux!.verify = true; });
  const s = await loadBootState(root);
  const { script } = renderScript({ farm: s.farm, layout: s.layout, secrets: s.secrets, clientName: 'dut1', client: s.farm.clients.dut1, profileName: 'linux' });
  const cmds = parseIpxeScript(script).commands.map((c) => c.argv.slice(0, 2).join(' '));
  assert.deepEqual(cmds, ['kernel --name', 'imgverify kernel', 'initrd --name', 'imgverify initrd0', 'echo booting', 'boot']);
});

test('selection: fingerprint, then serial; revoked, unknown, unverified and foreign MACs are refused with a reason', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  const s = await loadBootState(root);
  const sel = (id: Parameters<typeof selectBoot>[2]) => selectBoot(s.farm, s.certs, id);
  const a = sel({ verify: 'SUCCESS', fingerprint: FP1.toUpperCase() });
  assert.ok(a.ok && a.client === 'dut1' && a.profile === 'linux' && a.matchedBy === 'fingerprint');
  const b = sel({ verify: 'SUCCESS', serial: '001b' });
  assert.ok(b.ok && b.client === 'dut2' && b.matchedBy === 'serial');
  const r = sel({ verify: 'SUCCESS', fingerprint: FP3 });
  assert.ok(!r.ok && /revoked/.test(r.reason));
  const u = sel({ verify: 'SUCCESS', fingerprint: 'dd'.repeat(20) });
  assert.ok(!u.ok && /not in the farm's PKI index/.test(u.reason));
  const f = sel({ verify: 'FAILED:certificate has expired', fingerprint: FP1 });
  assert.ok(!f.ok && /could not verify/.test(f.reason));
  const n = sel({ verify: 'NONE' });
  assert.ok(!n.ok && /no client certificate/.test(n.reason));
  const none = sel({ fingerprint: FP1 });
  assert.ok(!none.ok && /did not come through/.test(none.reason));
  const other = sel({ verify: 'SUCCESS', fingerprint: FP1, mac: '52:54:00:12:34:57' });
  assert.ok(!other.ok && /not one of client dut1's MACs/.test(other.reason));
  const own = sel({ verify: 'SUCCESS', fingerprint: FP1, mac: '52-54-00-12-34-56' });
  assert.ok(own.ok && own.mac === '52:54:00:12:34:56');
});

test('the most specific mapping wins: own profile, else the default profile; none: refused', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  writeIndex(root, [record('dut1', '1A', FP1), record('lab9', '2A', FP2)]);
  let s = await loadBootState(root);
  const d = selectBoot(s.farm, s.certs, { verify: 'SUCCESS', fingerprint: FP2 });
  assert.ok(d.ok && d.client === 'lab9' && d.profile === 'rescue' && d.profileFrom === 'default');
  await updateFarm(root, (raw) => { delete raw.defaultProfile; });
  s = await loadBootState(root);
  const n = selectBoot(s.farm, s.certs, { verify: 'SUCCESS', fingerprint: FP2 });
  assert.ok(!n.ok && /^client lab9 is not in the farm .*no default profile: ipxe-farm client set lab9 --profile NAME$/.test(n.reason));
});

test('load-time checks: a missing secret, a missing file, a bad value are errors located in the farm file', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  // Only warnings (the fixture's secrets on the command line), no error.
  assert.deepEqual((await checkFarmWithBoot(root)).filter((i) => i.severity === 'error'), []);
  await updateFarm(root, (raw) => {
    const p = raw.profiles as Record<string, Record<string, unknown>>;
    p.linux!.cmdline = 'x={{secret.nope}}';
    p.rescue!.kernel = 'missing/vmlinuz';
    (raw.clients as Record<string, Record<string, unknown>>).dut1!.vars = { disk: 'a\nshell' };
  });
  const issues = await checkFarmWithBoot(root);
  const msgs = issues.map((i) => `${i.pointer} ${i.message}`).join('\n');
  assert.match(msgs, /\/profiles\/linux\/cmdline .*no secret "nope"/);
  assert.match(msgs, /\/profiles\/rescue\/kernel .*does not exist/);
  // The service loads it anyway and refuses exactly the profiles that are broken, so their clients (issue 13).
  const s = await loadBootState(root);
  assert.deepEqual([...s.refusals.profiles.keys()].sort(), ['linux', 'rescue']);
  // Each issue has a real position in the text, so the editor can underline it.
  const text = fs.readFileSync(path.join(root, 'ipxe-farm.json'), 'utf8');
  for (const i of issues) assert.ok(i.at.line > 0 && i.at.line < text.split('\n').length, `${i.pointer} located`);
});

test('a client variable with a newline is reported at that variable', async () => {
  const root = await tempFarm();
  await bootFarm(root);
  await updateFarm(root, (raw) => { (raw.clients as Record<string, Record<string, unknown>>).dut1!.vars = { disk: '/dev/vda\nshell' }; });
  const issues = (await checkFarmWithBoot(root)).filter((i) => i.severity === 'error');
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.pointer, '/clients/dut1/vars/disk');
  assert.match(issues[0]!.message, /line break/);
});
