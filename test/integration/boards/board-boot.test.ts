import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BoardRig, boardRigUnavailable, startBoardRig } from '../../support/boardRig';
import { farmLayout } from '../../../src/core/farm/layout';
import { updateFarm } from '../../../src/core/farm/load';
import { revoke } from '../../../src/core/pki';
import { bootVerdict, type BootVerdict } from '../../../src/core/verdict/boot';
import { formatVerdictStages } from '../../../src/core/verdict/follow';
import { readVerdicts } from '../../../src/core/verdict/health';
import { openFarm } from '../../../src/core/farm/handle';

// A QEMU "board" that iPXE Farm does not start itself: pdudaemon's localcmdline outlet switches it (QEMU daemonized
// with its serial port on a pty), ser2net serves that pty on 127.0.0.1, and `bootVerdict` power-cycles it, follows
// the console through ser2net and the boot service's events, and gives the verdict. Debian's stock EFI iPXE boots
// over mutual TLS (no iPXE source tree needed), the served script pins kernel and initrd.

const BOOT_TIMEOUT = 420_000;
let skip = '';
let rig: BoardRig | undefined;
let root = '';
let TOKEN = '';

before(async () => {
  skip = (await boardRigUnavailable()) ?? '';
  if (skip) return;
  rig = await startBoardRig();
  root = rig.root;
  TOKEN = rig.token;
}, { timeout: 15 * 60_000 });

after(async () => {
  await rig?.stop();
});

function explain(v: BootVerdict, out: string): string {
  return `${v.outcome}: ${v.reason}\nstages: ${formatVerdictStages(v.stages)}\nconsole tail:\n${out.slice(-2500)}\nservice:\n${rig!.serviceLog.slice(-8).join('\n')}\npdudaemon:\n${rig!.pdu.output().slice(-1500)}\nboard: ${rig!.board.history().join(",")}`;
}

async function boot(onOutput?: (t: string) => void): Promise<{ v: BootVerdict; out: string; notes: string[] }> {
  let out = '';
  const notes: string[] = [];
  const v = await bootVerdict(await openFarm(root), 'dut1', { timeoutMs: BOOT_TIMEOUT, onOutput: (t) => { out += t; onOutput?.(t); }, onNote: (l) => notes.push(l) });
  return { v, out, notes };
}

test('pdudaemon power + ser2net console: the board boots over mutual TLS to its Linux marker, PASS, recorded', { timeout: BOOT_TIMEOUT + 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const { v, out, notes } = await boot();
  t.diagnostic(`board PASS stages: ${formatVerdictStages(v.stages)} (${(v.elapsedMs / 1000).toFixed(1)} s)`);
  assert.equal(v.outcome, 'pass', explain(v, out));
  assert.match(v.via.power, /^pdudaemon at 127\.0\.0\.1:\d+, PDU pdu1 outlet 1$/);
  assert.match(v.via.console, /dut1's console at 127\.0\.0\.1:\d+ \(raw\)/);
  assert.ok(notes.some((n) => n.startsWith('power cycle via pdudaemon')));
  assert.ok(v.stages.scriptServed !== undefined && v.stages.marker !== undefined && v.stages.scriptServed < v.stages.marker, explain(v, out));
  assert.ok(v.stages.kernelFetched === undefined || v.stages.kernelFetched <= v.stages.marker!);
  assert.match(out, /IPXE-FARM-LINUX-UP cmdline: .*farm\.token=«redacted»/, 'the secret is masked on the console view');
  assert.ok(!out.includes(TOKEN));
  assert.ok(!fs.readFileSync(v.logFile, 'utf8').includes(TOKEN), 'the secret is not in the console log');
  assert.equal(fs.statSync(v.logFile).mode & 0o777, 0o600);
  assert.deepEqual(rig!.board.history().slice(0, 2), ['off', 'on'], 'a power cycle: off, then on');
  const recorded = await readVerdicts(root);
  assert.equal(recorded.at(-1)?.outcome, 'pass');
  assert.equal(fs.statSync(path.join(farmLayout(root).runtime, 'verdicts.jsonl')).mode & 0o777, 0o600);
});

test('ser2net killed mid-boot: the console reconnects and the verdict still comes', { timeout: BOOT_TIMEOUT + 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  let killed: Promise<void> | undefined;
  const { v, out, notes } = await boot(() => { killed ??= rig!.restartSer2net(800); });
  await killed;
  assert.ok(killed, 'the console showed something before ser2net was killed');
  assert.ok(notes.some((n) => /console waiting: nothing listens at 127\.0\.0\.1:\d+|console waiting: the console server at .* closed the connection/.test(n)), notes.join('\n'));
  assert.ok(notes.filter((n) => n.startsWith('console connected')).length >= 2, `reconnected:\n${notes.join('\n')}`);
  assert.equal(v.outcome, 'pass', explain(v, out));
});

test('the same client as a QEMU machine (no power/console sections) goes through the same verdict: PASS', { timeout: BOOT_TIMEOUT + 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const saved = await asQemuClient();
  try {
    let out = '';
    const v = await bootVerdict(await openFarm(root), 'dut1', { timeoutMs: BOOT_TIMEOUT, onOutput: (x) => { out += x; }, qemu: { efi: true, image: rig!.stick.image, efiVars: rig!.stick.vars } });
    t.diagnostic(`QEMU client stages: ${formatVerdictStages(v.stages)}`);
    assert.equal(v.outcome, 'pass', explain(v, out));
    assert.match(v.via.power, /^QEMU \((tcg|kvm)\)$/);
    assert.ok(v.stages.scriptServed !== undefined && v.stages.scriptServed < v.stages.marker!);
    assert.ok(!out.includes(TOKEN));
  } finally {
    await updateFarm(root, (raw) => { Object.assign((raw.clients as Record<string, Record<string, unknown>>).dut1!, saved); });
  }
});

async function asQemuClient(): Promise<Record<string, unknown>> {
  let saved: Record<string, unknown> = {};
  await updateFarm(root, (raw) => {
    const c = (raw.clients as Record<string, Record<string, unknown>>).dut1!;
    saved = { power: c.power, console: c.console };
    delete c.power;
    delete c.console;
  });
  return saved;
}

test('a revoked board: FAIL with the farm\'s refusal reason from the console', { timeout: BOOT_TIMEOUT + 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  await revoke(root, 'dut1', { reason: 'keyCompromise' });
  await rig!.servers.nginx.reload();
  await new Promise((r) => setTimeout(r, 1000));
  const { v, out } = await boot();
  t.diagnostic(`revoked: ${v.reason}`);
  assert.equal(v.outcome, 'fail', explain(v, out));
  assert.match(v.reason, /revoked/i, explain(v, out));
  assert.equal(v.stages.marker, undefined);
  assert.equal((await readVerdicts(root)).at(-1)?.outcome, 'fail');
});

test('metrics: a scrape of the loopback exporter agrees with the verdicts and the boot service\'s events', { timeout: 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const { startMetricsServer, metricsListen } = await import('../../../src/core/metrics/serve');
  const { readBootEvents } = await import('../../../src/core/boot/events');
  const { loadFarm } = await import('../../../src/core/farm/load');
  const { freePort } = await import('../../support/ports');
  const listen = metricsListen((await loadFarm(root)).farm, `127.0.0.1:${await freePort()}`);
  const server = await startMetricsServer(root, listen);
  try {
    const text = await (await fetch(server.url)).text();
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    const verdicts = await readVerdicts(root);
    const events = (await readBootEvents(root)).filter((e) => e.client === 'dut1' && e.path.split('?')[0] !== '/why.ipxe');
    assert.equal(value(/^ipxe_farm_boots_total\{client="dut1",outcome="pass"\} (\d+)$/m), verdicts.filter((v) => v.outcome === 'pass').length, text);
    assert.equal(value(/^ipxe_farm_boots_total\{client="dut1",outcome="fail"\} (\d+)$/m), verdicts.filter((v) => v.outcome === 'fail').length, text);
    assert.equal(value(/^ipxe_farm_scripts_served_total\{client="dut1"\} (\d+)$/m), events.filter((e) => e.status === 200).length, text);
    assert.ok(value(/^ipxe_farm_boots_total\{client="dut1",outcome="pass"\} (\d+)$/m) >= 1);
    assert.equal(value(/^ipxe_farm_boot_stage_seconds_count\{stage="marker"\} (\d+)$/m), verdicts.filter((v) => v.stages.marker !== undefined).length);
    assert.match(text, /^ipxe_farm_cert_days_left\{kind="server",name="server"\} \d+$/m);
    assert.doesNotMatch(text, /ipxe_farm_cert_days_left\{kind="client",name="dut1"\}/, 'a revoked certificate has no days left to count');
  } finally {
    await server.close();
  }
});
