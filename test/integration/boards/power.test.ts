import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import { tempFarm } from '../../support/farm';
import { freePort } from '../../support/ports';
import { Board, boardToolsMissing, Daemon, makeBoard, startIpmiSim, startPdudaemon } from '../../support/boards';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { setSecret } from '../../../src/core/secrets/store';
import { powerFor } from '../../../src/core/power';

// Real daemons on 127.0.0.1: pdudaemon's HTTP API switching a board through its localcmdline driver, ipmi_sim (a real
// IPMI LAN BMC) switching a board through its chassis_control hook, and ipmitool -I lanplus talking to it.

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ipxeFarm = (args: string[], cwd: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, timeout: 120_000 });
const BMC_PASSWORD = 'bmc-Pw-7731x';

let skip = '';
let root = '';
let pduBoard: Board, bmcBoard: Board, plugBoard: Board;
let pdu: Daemon | undefined, bmc: Daemon | undefined;

before(async () => {
  skip = boardToolsMissing(['pdudaemon', 'ipmi_sim', 'ipmitool']) ?? '';
  if (skip) return;
  root = await tempFarm('powerfarm');
  const dir = path.join(path.dirname(root), 'rig');
  pduBoard = makeBoard(path.join(dir, 'pdu-board'), 'sleep 600');
  bmcBoard = makeBoard(path.join(dir, 'bmc-board'), 'sleep 600');
  plugBoard = makeBoard(path.join(dir, 'plug-board'), 'sleep 600');
  pdu = await startPdudaemon(path.join(dir, 'pdu'), 'pdu1', { 3: pduBoard });
  bmc = await startIpmiSim(path.join(dir, 'bmc'), bmcBoard, 'admin', BMC_PASSWORD);
  await setSecret(root, 'bmc-pw', BMC_PASSWORD);
  await setSecret(root, 'wrong-pw', 'not-the-password');
  await updateFarm(root, (raw) => {
    raw.clients = {
      rack1: { macs: [], vars: {}, power: { driver: 'pdudaemon', host: '127.0.0.1', port: pdu!.port, pdu: 'pdu1', outlet: 3 } },
      bmc1: { macs: [], vars: {}, power: { driver: 'ipmi', host: '127.0.0.1', port: bmc!.port, user: 'admin', passwordSecret: 'bmc-pw' } },
      plug1: { macs: [], vars: { board: plugBoard.script }, power: { driver: 'command', on: ['{{client.vars.board}}', 'on'], off: ['{{client.vars.board}}', 'off'], status: ['{{client.vars.board}}', 'status'], timeoutSeconds: 20 } },
      vm1: { macs: [], vars: {} },
    };
  });
}, { timeout: 120_000 });

after(async () => {
  for (const b of [pduBoard, bmcBoard, plugBoard]) b?.stop();
  await pdu?.stop();
  await bmc?.stop();
});

test('pdudaemon: power on, off and cycle switch the board behind its localcmdline outlet', { timeout: 120_000 }, async (t) => {
  if (skip) return t.skip(skip);
  let r = ipxeFarm(['power', 'on', 'rack1'], root);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /rack1: switched on \(pdudaemon at 127\.0\.0\.1:\d+, PDU pdu1 outlet 3\)/);
  assert.ok(pduBoard.isOn());
  r = ipxeFarm(['power', 'cycle', 'rack1'], root);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(pduBoard.isOn());
  assert.deepEqual(pduBoard.history(), ['on', 'off', 'on']);
  r = ipxeFarm(['power', 'status', 'rack1', '--json'], root);
  assert.equal(JSON.parse(r.stdout)[0].state, 'unknown', 'pdudaemon cannot read an outlet back; the CLI must not pretend');
  r = ipxeFarm(['power', 'off', 'rack1'], root);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!pduBoard.isOn());
});

test('ipmi: ipmitool lanplus against ipmi_sim switches and reads the board; the password never reaches a command line', { timeout: 120_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const { farm } = await loadFarm(root);
  const ctl = await powerFor(root, farm, 'bmc1');
  assert.equal(await ctl.status(), 'off');
  // Watch every process's command line while ipmitool runs: the password must be in none of them.
  const seen: string[] = [];
  const watch = setInterval(() => {
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try { seen.push(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')); } catch { /* gone */ }
    }
  }, 5);
  try {
    await ctl.on();
  } finally {
    clearInterval(watch);
  }
  assert.ok(seen.some((l) => l.includes('ipmitool')), 'the watcher saw ipmitool run');
  assert.ok(!seen.some((l) => l.includes(BMC_PASSWORD)), 'the BMC password appeared on a command line');
  assert.ok(bmcBoard.isOn());
  assert.equal(await ctl.status(), 'on');
  const r = ipxeFarm(['power', 'cycle', 'bmc1'], root);
  assert.equal(r.status, 0, r.stderr);
  // ipmi_sim powers back on one second after the off of a cycle.
  for (let i = 0; i < 50 && bmcBoard.history().length < 3; i++) await new Promise((res) => setTimeout(res, 100));
  await new Promise((res) => setTimeout(res, 300));
  assert.deepEqual(bmcBoard.history(), ['on', 'off', 'on']);
  assert.ok(bmcBoard.isOn());
  assert.equal(ipxeFarm(['power', 'off', 'bmc1'], root).status, 0);
  assert.ok(!bmcBoard.isOn());
  assert.equal(fs.readdirSync(require('node:os').tmpdir()).filter((d: string) => d.startsWith('ipxe-farm-ipmi-')).length, 0, 'the password file is removed');
});

test('command: the user\'s argv runs without a shell, with client variables as arguments; status is read back', { timeout: 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  assert.equal(ipxeFarm(['power', 'on', 'plug1'], root).status, 0);
  assert.ok(plugBoard.isOn());
  assert.match(ipxeFarm(['power', 'status', 'plug1'], root).stdout, /plug1: on/);
  assert.equal(ipxeFarm(['power', 'off', 'plug1'], root).status, 0);
  assert.match(ipxeFarm(['power', 'status', 'plug1'], root).stdout, /plug1: off/);
});

test('bad input: one sentence each, exit 1, and the board is left as it was', { timeout: 120_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const deadPort = await freePort();
  await updateFarm(root, (raw) => {
    const c = raw.clients as Record<string, any>;
    c.lostpdu = { macs: [], vars: {}, power: { driver: 'pdudaemon', host: '127.0.0.1', port: deadPort, pdu: 'pdu1', outlet: 3 } };
    c.otherpdu = { macs: [], vars: {}, power: { driver: 'pdudaemon', host: '127.0.0.1', port: pdu!.port, pdu: 'nosuchpdu', outlet: 3 } };
    c.badbmc = { macs: [], vars: {}, power: { driver: 'ipmi', host: '127.0.0.1', port: bmc!.port, user: 'admin', passwordSecret: 'wrong-pw' } };
  });
  let r = ipxeFarm(['power', 'on', 'lostpdu'], root);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^lostpdu: Cannot switch lostpdu on: pdudaemon at 127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\), so lostpdu's power was not changed\. Start pdudaemon/m);
  r = ipxeFarm(['power', 'on', 'otherpdu'], root);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /refused outlet 3 of PDU "nosuchpdu" \(HTTP 500/);
  r = ipxeFarm(['power', 'on', 'badbmc'], root);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the BMC at 127\.0\.0\.1:\d+ refused the login of user "admin" \(wrong password or user name\)/);
  assert.ok(!bmcBoard.isOn());
  r = ipxeFarm(['power', 'on', 'vm1'], root);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /vm1 is a QEMU machine: iPXE Farm powers it by starting QEMU/);
  r = ipxeFarm(['power', 'toggle', 'rack1'], root);
  assert.equal(r.status, 2);
  r = ipxeFarm(['client', 'power', 'rack1', 'redfish', 'host=x'], root);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown power driver "redfish".*Redfish is not offered/);
  const before = fs.readFileSync(path.join(root, 'ipxe-farm.json'), 'utf8');
  r = ipxeFarm(['client', 'power', 'rack1', 'pdudaemon', 'host=127.0.0.1'], root);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /power\/outlet is missing/);
  assert.equal(fs.readFileSync(path.join(root, 'ipxe-farm.json'), 'utf8'), before, 'a refused change leaves the farm file as it was');
  r = ipxeFarm(['client', 'power', 'plug1', 'command', 'on=["{{client.vars.board}}","on"]', 'off=["{{client.vars.board}}","off"]', 'timeoutSeconds=5'], root);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await loadFarm(root)).farm.clients.plug1!.power!.driver, 'command');
});

test('health and boot from the CLI: verdicts on record are summed per client; a client that mixes QEMU and board sections is refused in one sentence', { timeout: 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const { recordVerdict } = await import('../../../src/core/verdict/health');
  const base = { stages: {}, elapsedMs: 1000, via: { power: 'x', console: 'y' }, logFile: '/dev/null' };
  for (const [i, outcome] of (['pass', 'fail', 'pass', 'pass'] as const).entries()) {
    await recordVerdict(root, { ...base, client: 'rack1', outcome, reason: outcome === 'pass' ? 'the boot reached its marker' : 'no marker within 300 s; last stage: DHCP ok', startedAt: `2026-12-01T00:00:0${i}Z` });
  }
  const h = ipxeFarm(['health', '--json', '--threshold', '0.9'], root);
  assert.equal(h.status, 0, h.stderr);
  const rack1 = (JSON.parse(h.stdout) as Array<Record<string, unknown>>).find((r) => r.client === 'rack1')!;
  assert.deepEqual([rack1.boots, rack1.passed, rack1.state], [4, 3, 'flaky']);
  assert.match(ipxeFarm(['health'], root).stdout, /^rack1\s+flaky\s+3\/4 passed \(75 %\) · last failure 2026-12-01T00:00:01Z: no marker within 300 s/m);
  assert.equal(fs.statSync(path.join(root, '.ipxe-farm', 'verdicts.jsonl')).mode & 0o777, 0o600);
  await updateFarm(root, (raw) => { (raw.clients as Record<string, any>).mixed = { macs: [], vars: {}, console: { driver: 'tcp', host: '127.0.0.1', port: 9 } }; });
  const b = ipxeFarm(['boot', 'mixed', '--timeout', '5'], root);
  assert.equal(b.status, 1);
  assert.match(b.stderr, /mixed mixes a QEMU power with a real board's console\. Give \/clients\/mixed both a "power" and a "console" section, or neither\./);
  const none = ipxeFarm(['boot', 'ghost'], root);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /There is no client "ghost" in ipxe-farm\.json/);
  assert.equal(ipxeFarm(['boot'], root).status, 2);
});
