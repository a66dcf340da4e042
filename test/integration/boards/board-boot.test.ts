import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { ensureTestKernel } from '../../support/kernel';
import { Board, boardToolsMissing, Daemon, makeBoard, startPdudaemon, startSer2net } from '../../support/boards';
import { FarmServers, missingTools, startFarmServers } from '../e2e/rig';
import { farmLayout } from '../../../src/core/farm/layout';
import { updateFarm } from '../../../src/core/farm/load';
import { setSecret } from '../../../src/core/secrets/store';
import { revoke } from '../../../src/core/pki';
import { ensureStockIpxe, stockUnavailable } from '../../../src/core/stock/debianPackage';
import { buildStockImage } from '../../../src/core/stock/image';
import { findOvmf } from '../../../src/core/qemu/ovmf';
import { clientLaunchOptions } from '../../../src/core/qemu/client';
import { qemuArgs, shellLine } from '../../../src/core/qemu/args';
import { bootVerdict, type BootVerdict } from '../../../src/core/verdict/boot';
import { formatVerdictStages } from '../../../src/core/verdict/follow';
import { readVerdicts } from '../../../src/core/verdict/health';

// A QEMU "board" that iPXE Farm does not start itself: pdudaemon's localcmdline outlet switches it (QEMU daemonized
// with its serial port on a pty), ser2net serves that pty on 127.0.0.1, and `bootVerdict` power-cycles it, follows
// the console through ser2net and the boot service's events, and gives the verdict. Debian's stock EFI iPXE boots
// over mutual TLS (no iPXE source tree needed), the served script pins kernel and initrd.

const TOKEN = 'brdTok-5Rq81Lx';
const BOOT_TIMEOUT = 420_000;
let skip = '';
let root = '';
let servers: FarmServers | undefined;
let board: Board | undefined;
let pdu: Daemon | undefined;
let s2n: Daemon | undefined;
let rig = '';
const serviceLog: string[] = [];
const sha256 = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

before(async () => {
  skip = boardToolsMissing(['pdudaemon', 'ser2net']) ?? missingTools(['qemu-system-x86_64', 'socat', 'nginx', 'mformat', 'mcopy'])
    ?? stockUnavailable() ?? (findOvmf() ? '' : 'SKIPPED LOUDLY: ovmf is not installed (apt-get install ovmf)');
  if (skip) return;
  try { await ensureStockIpxe(); } catch (err) { skip = `SKIPPED LOUDLY: Debian's stock iPXE could not be downloaded: ${(err as Error).message}`; return; }
  root = await farmWithPki('boards');
  rig = path.join(path.dirname(root), 'rig');
  const layout = farmLayout(root);
  const kernel = await ensureTestKernel();
  fs.copyFileSync(kernel.kernel, path.join(layout.files, 'vmlinuz'));
  fs.copyFileSync(kernel.initrd, path.join(layout.files, 'initrd.gz'));
  const pin = (name: string, hash: string) => [`sha256sum --set farm_sum ${name}`, `iseq \${farm_sum} ${hash} || exit 1`];
  await setSecret(root, 'token', TOKEN);
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = { pinned: {
      kernel: 'vmlinuz', initrds: ['initrd.gz'], verify: false, cmdline: 'console=ttyS0 quiet farm.token={{secret.token}} host={{client.name}}',
      extra: [...pin('kernel', sha256(kernel.kernel)), ...pin('initrd0', sha256(kernel.initrd)), 'imgfree autoexec.ipxe ||', 'imgfree boot.ipxe ||'],
    } };
    raw.clients = { dut1: { profile: 'pinned', macs: ['52:54:00:00:00:31'], vars: {} } };
  });
  const stick = await buildStockImage(root, 'dut1', { script: { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } });
  // The board: the client's own QEMU command, but daemonized with its serial port on a pty instead of stdio.
  const launch = await clientLaunchOptions(root, 'dut1', { efi: true, image: stick.image, efiVars: stick.vars });
  const fw = findOvmf()!;
  const runVars = path.join(rig, 'board', 'vars.fd');
  const args = qemuArgs({ ...launch.spec, accel: 'tcg', ovmf: { code: fw.code, vars: runVars } }).filter((a) => a !== '-nographic');
  args.push('-display', 'none', '-monitor', 'none', '-serial', 'pty');
  board = makeBoard(path.join(rig, 'board'), `cp ${stick.vars} ${runVars} && ${shellLine('qemu-system-x86_64', args)}`, { qemu: true });
  pdu = await startPdudaemon(path.join(rig, 'pdu'), 'pdu1', { 1: board });
  s2n = await startSer2net(path.join(rig, 's2n'), board.ptyLink, 'raw');
  await updateFarm(root, (raw) => {
    const c = (raw.clients as Record<string, Record<string, unknown>>).dut1!;
    c.power = { driver: 'pdudaemon', host: '127.0.0.1', port: pdu!.port, pdu: 'pdu1', outlet: 1 };
    c.console = { driver: 'tcp', host: '127.0.0.1', port: s2n!.port, protocol: 'raw' };
  });
  servers = await startFarmServers(root, (l) => serviceLog.push(l));
}, { timeout: 15 * 60_000 });

after(async () => {
  board?.stop();
  await s2n?.stop();
  await pdu?.stop();
  await servers?.stop();
});

function explain(v: BootVerdict, out: string): string {
  return `${v.outcome}: ${v.reason}\nstages: ${formatVerdictStages(v.stages)}\nconsole tail:\n${out.slice(-2500)}\nservice:\n${serviceLog.slice(-8).join('\n')}\npdudaemon:\n${pdu?.output().slice(-1500)}\nboard: ${board?.history().join(",")}`;
}

async function boot(onOutput?: (t: string) => void): Promise<{ v: BootVerdict; out: string; notes: string[] }> {
  let out = '';
  const notes: string[] = [];
  const v = await bootVerdict(root, 'dut1', { timeoutMs: BOOT_TIMEOUT, onOutput: (t) => { out += t; onOutput?.(t); }, onNote: (l) => notes.push(l) });
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
  assert.match(out, /IPXE-FARM-LINUX-UP cmdline: .*farm\.token=••••••/, 'the secret is masked on the console view');
  assert.ok(!out.includes(TOKEN));
  assert.ok(!fs.readFileSync(v.logFile, 'utf8').includes(TOKEN), 'the secret is not in the console log');
  assert.equal(fs.statSync(v.logFile).mode & 0o777, 0o600);
  assert.deepEqual(board!.history().slice(0, 2), ['off', 'on'], 'a power cycle: off, then on');
  const recorded = await readVerdicts(root);
  assert.equal(recorded.at(-1)?.outcome, 'pass');
  assert.equal(fs.statSync(path.join(farmLayout(root).runtime, 'verdicts.jsonl')).mode & 0o777, 0o600);
});

test('ser2net killed mid-boot: the console reconnects and the verdict still comes', { timeout: BOOT_TIMEOUT + 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  let killed: Promise<void> | undefined;
  const { v, out, notes } = await boot(() => {
    killed ??= (async () => {
      await s2n!.stop();
      await new Promise((r) => setTimeout(r, 800));
      s2n = await startSer2net(path.join(rig, 's2n'), board!.ptyLink, 'raw', s2n!.port);
    })();
  });
  await killed;
  assert.ok(killed, 'the console showed something before ser2net was killed');
  assert.ok(notes.some((n) => /console waiting: nothing listens at 127\.0\.0\.1:\d+|console waiting: the console server at .* closed the connection/.test(n)), notes.join('\n'));
  assert.ok(notes.filter((n) => n.startsWith('console connected')).length >= 2, `reconnected:\n${notes.join('\n')}`);
  assert.equal(v.outcome, 'pass', explain(v, out));
});

test('a revoked board: FAIL with the farm\'s refusal reason from the console', { timeout: BOOT_TIMEOUT + 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  await revoke(root, 'dut1', { reason: 'keyCompromise' });
  await servers!.nginx.reload();
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
