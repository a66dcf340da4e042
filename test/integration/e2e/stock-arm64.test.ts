import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { LINUX_MARKER_RE } from '../../support/kernel';
import { loadFarm } from '../../../src/core/farm/load';
import { revoke } from '../../../src/core/pki';
import { readLastBoots } from '../../../src/core/boot/events';
import { TLS_REFUSAL_REASONS } from '../../../src/core/nginx/generate';
import { ensureStockIpxe, stockUnavailable } from '../../../src/core/stock/debianPackage';
import { buildStockImage, StockImageResult } from '../../../src/core/stock/image';
import { readVariable, GUIDS } from '../../../src/core/stock/efiVars';
import { findOvmf } from '../../../src/core/stock/ovmf';
import { clientLaunchOptions } from '../../../src/core/qemu/client';
import { bootHeadless, QemuResult } from '../../../src/core/qemu/launch';
import { formatStages } from '../../../src/core/qemu/stages';
import { FarmServers, startFarmServers } from './rig';
import { arm64Farm, arm64Missing, ARM64_SCRIPT, ARM64_TOKEN } from './arm64Farm';
import { openFarm } from '../../../src/core/farm/handle';

// A fresh machine (no iPXE source, no compiler for iPXE) and an arm64 board: Debian's prebuilt ipxe-arm64.efi as
// EFI/BOOT/BOOTAA64.EFI with the client's certificate and key in autoexec.ipxe, the farm CA enrolled in AAVMF's
// (blank, formatted by the product) variable store, qemu-system-aarch64 -M virt under TCG on restricted networking,
// the product's nginx and boot service, and Debian's arm64 kernel + an arm64 busybox initramfs printing its command
// line on ttyAMA0.

const TOKEN = ARM64_TOKEN;
const BOOT_TIMEOUT = 420_000;
let skipReason = '';
let root = '';
let servers: FarmServers | undefined;
const sticks: Record<string, StockImageResult> = {};
const serviceLog: string[] = [];

before(async () => {
  skipReason = arm64Missing() ?? stockUnavailable() ?? '';
  if (skipReason) return;
  try {
    await ensureStockIpxe();
    root = await arm64Farm('arm64');
  } catch (err) {
    skipReason = `SKIPPED LOUDLY: Debian's stock iPXE or arm64 kernel/busybox could not be downloaded: ${(err as Error).message}`;
    return;
  }
  for (const c of ['dut1', 'dut2']) sticks[c] = await buildStockImage(await openFarm(root), c, { script: ARM64_SCRIPT });
  await revoke(root, 'dut2', { reason: 'keyCompromise' });
  servers = await startFarmServers(root, (l) => serviceLog.push(l));
}, { timeout: 20 * 60_000 });

after(async () => {
  await servers?.stop();
});

function explain(r: QemuResult): string {
  return `${r.reason} after ${(r.elapsedMs / 1000).toFixed(1)} s; console tail:\n${r.output.slice(-3000)}\nservice:\n${serviceLog.slice(-10).join('\n')}`;
}

test('the arm64 stick holds BOOTAA64.EFI; its AAVMF store (a pflash image, 0600) trusts the farm CA', (t) => {
  if (skipReason) return t.skip(skipReason);
  const s = sticks.dut1!;
  assert.equal(s.arch, 'arm64-efi');
  for (const f of [s.image, s.vars]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  assert.equal(fs.statSync(s.vars).size, fs.statSync(findOvmf('arm64')!.code).size, 'AAVMF pflash: vars as large as code');
  assert.ok(readVariable(fs.readFileSync(s.vars), 'TlsCaCertificate', GUIDS.tlsCaCertificate));
  const ls = fs.readFileSync(s.image).includes(Buffer.from('BOOTAA64EFI'));
  assert.ok(ls, 'EFI/BOOT/BOOTAA64.EFI on the stick');
});

test('qemu dut1: stock arm64 iPXE boots Debian\'s arm64 kernel over mutual TLS, and Linux prints the secret', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  // No --image/--vars: the client has no built image, so `qemu dut1` takes its stock stick and CA-trusting store.
  const opts = await clientLaunchOptions(await openFarm(root), 'dut1');
  assert.equal(opts.spec.cpu, 'arm64');
  assert.equal(opts.spec.network.kind, 'restricted');
  const r = await bootHeadless({ ...opts, redact: [TOKEN], linuxMarker: LINUX_MARKER_RE, headless: { timeoutMs: BOOT_TIMEOUT, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 3000 } });
  t.diagnostic(`arm64 stock stages: ${formatStages(r.stages)} · ${(r.elapsedMs / 1000).toFixed(1)} s`);
  assert.match(r.command, /^qemu-system-aarch64 -M virt -cpu max -accel tcg /);
  assert.equal(r.reason, 'marker', explain(r));
  assert.match(r.marker![1]!, new RegExp(`farm\\.token=${TOKEN}\\b`));
  assert.match(r.marker![1]!, /console=ttyAMA0 .*host=dut1\b/);
  assert.equal(r.downloads[0]?.url, `https://10.0.2.100:${(await loadFarm(root)).farm.server.httpsPort}/boot.ipxe`);
  assert.equal((await readLastBoots(root)).dut1?.status, 200);
  assert.doesNotMatch(fs.readFileSync(r.logFile, 'utf8'), new RegExp(TOKEN));
});

test('a revoked arm64 board is refused, and its console says why', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const opts = await clientLaunchOptions(await openFarm(root), 'dut2');
  const r = await bootHeadless({ ...opts, headless: { timeoutMs: BOOT_TIMEOUT } });
  t.diagnostic(`dut2: ${r.errors.map((e) => `${e.code} "${e.line}"`).join('; ')} · ${(r.elapsedMs / 1000).toFixed(1)} s`);
  assert.equal(r.stages.linuxMarker, undefined, explain(r));
  // HTTP 4xx: nginx refused the revoked certificate (the last byte is the platform's: 98 on EFI).
  assert.match(r.errors[0]?.code ?? '', /^1d0c64/, explain(r));
  assert.match(r.errors[0]!.decoded.message, /4xx|refused|HTTP/i);
  const said = TLS_REFUSAL_REASONS.find(([k]) => k === 'FAILED:certificate revoked')![1];
  assert.ok(r.output.includes(said), `the console shows "${said}"\n${explain(r)}`);
  assert.match(servers!.accessLog(), /"GET \/why\.ipxe" 200 .*verify=FAILED:certificate revoked/);
  assert.equal((await readLastBoots(root)).dut2, undefined, 'the boot service never saw it');
});
