import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { which } from '../../support/farm';
import { FarmServers, startFarmServers } from './rig';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { issueClient, revoke } from '../../../src/core/pki';
import { readLastBoots } from '../../../src/core/boot/events';
import { buildClientImage } from '../../../src/core/ipxe/build';
import { locateIpxeSource, type IpxeSource } from '../../../src/core/ipxe/source';
import { SCRIPT_MARKERS } from '../../../src/core/ipxe/script';
import { TLS_REFUSAL_REASONS } from '../../../src/core/nginx/generate';
import { clientLaunchOptions } from '../../../src/core/qemu/client';
import { findOvmf } from '../../../src/core/stock/ovmf';
import { ensureStockIpxe, stockUnavailable } from '../../../src/core/stock/debianPackage';
import { buildStockImage, type StockImageResult } from '../../../src/core/stock/image';
import { bootHeadless, QemuResult } from '../../../src/core/qemu/launch';
import { openFarm } from '../../../src/core/farm/handle';

// What the person at the console of a refused machine reads: each client's own image, built by a real iPXE make, boots
// in QEMU (TCG, restricted user networking) against the farm's generated nginx and the boot service. /boot.ipxe is
// refused (iPXE runs no 4xx body), the image then asks /why.ipxe, and the reason appears on the serial console:
// nginx's words for a revoked certificate, the service's own for a certificate whose client left the farm.

const BOOT_TIMEOUT = 180_000;
// One attempt, then power off: the run ends by itself once the console has said everything.
const SCRIPT = { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } as const;
let skipReason = '';
let root = '';
let source: IpxeSource | undefined;
let servers: FarmServers | undefined;
let stick: StockImageResult | undefined;
let stockSkip = '';
/** The two ISO tests need an iPXE source tree and the build tools; the stock EFI stick needs neither. */
let buildSkip = '';
const serviceLog: string[] = [];

before(async () => {
  for (const tool of ['qemu-system-x86_64', 'socat', 'nginx']) {
    if (!which(tool) && !fs.existsSync(`/usr/sbin/${tool}`)) { skipReason = `SKIPPED LOUDLY: ${tool} is not installed, so the console of a refused boot cannot be checked here`; return; }
  }
  for (const tool of ['make', 'gcc', 'xorriso']) {
    if (!buildSkip && !which(tool)) buildSkip = `SKIPPED LOUDLY: ${tool} is not installed, so no iPXE image can be built here`;
  }
  root = await farmWithPki('whye2e');
  if (!buildSkip) {
    try {
      source = await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false });
    } catch (err) {
      buildSkip = `SKIPPED LOUDLY: no iPXE source tree (set IPXE_SRC, or run \`ipxe-farm ipxe source --fetch\`): the built ISO's console was NOT tested; the same refusal on the stock EFI stick (the next test in this file) still ran — ${(err as Error).message}`;
    }
  }
  // Nothing boots here, but the farm file is only valid with the profile's kernel on disk.
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'not booted');
  for (const c of ['dut-revoked', 'dut-gone']) await issueClient(await openFarm(root), c);
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = { linux: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0', verify: false, extra: [] } };
    // dut-gone keeps its valid certificate but left the farm, which has no default profile: only the service refuses it.
    raw.clients = { 'dut-revoked': { profile: 'linux', macs: [], vars: {} } };
    delete raw.defaultProfile;
  });
  for (const c of buildSkip ? [] : ['dut-revoked', 'dut-gone']) {
    const r = await buildClientImage(await openFarm(root), c, { target: 'iso', source, script: SCRIPT });
    serviceLog.push(`built ${c} in ${(r.durationMs / 1000).toFixed(1)} s`);
  }
  // The stock EFI stick runs the same farm script from its autoexec.ipxe (Debian's prebuilt iPXE, no compiler).
  stockSkip = stockUnavailable() ?? (findOvmf() ? '' : 'SKIPPED LOUDLY: ovmf is not installed (apt-get install ovmf)');
  if (!stockSkip && !which('mformat')) stockSkip = 'SKIPPED LOUDLY: mtools is not installed (apt-get install mtools)';
  if (!stockSkip) {
    try {
      await ensureStockIpxe();
      stick = await buildStockImage(await openFarm(root), 'dut-revoked', { script: SCRIPT });
    } catch (err) {
      stockSkip = `SKIPPED LOUDLY: the stock EFI stick could not be made here: ${(err as Error).message}`;
    }
  }
  await revoke(root, 'dut-revoked', { reason: 'keyCompromise' });
  servers = await startFarmServers(root, (l) => serviceLog.push(l));
}, { timeout: 30 * 60_000 });

after(async () => {
  await servers?.stop();
});

async function boot(client: string, launch: Parameters<typeof clientLaunchOptions>[2] = {}): Promise<QemuResult> {
  const opts = await clientLaunchOptions(await openFarm(root), client, launch);
  assert.equal(opts.spec.network.kind, 'restricted', 'tests keep QEMU on restricted networking');
  // No stop on the first iPXE error: the reason comes after it.
  return bootHeadless({ ...opts, headless: { timeoutMs: BOOT_TIMEOUT } });
}

/** The console from the failed fetch on, with the lines a person reads in order. */
function assertConsoleSaysWhy(r: QemuResult, reason: string | RegExp): string {
  const out = r.output;
  const tail = `\n--- console tail ---\n${out.slice(-2500)}\n--- service ---\n${serviceLog.slice(-10).join('\n')}`;
  assert.equal(r.reason, 'exited', `the image powers off after its one attempt${tail}`);
  const lines = out.split('\n').map((l) => l.trim());
  const failed = lines.findIndex((l) => /\/boot\.ipxe\.\.\. .*\([^)]*[0-9a-f]{8}\)/.test(l));
  const asking = lines.findIndex((l) => l.startsWith(SCRIPT_MARKERS.askingWhy));
  const headline = lines.indexOf(SCRIPT_MARKERS.refused);
  assert.ok(failed >= 0 && asking > failed && headline > asking, `error code, then asking why, then the farm's answer${tail}`);
  const said = lines[headline + 1]!;
  if (typeof reason === 'string') assert.equal(said, reason, tail); else assert.match(said, reason, tail);
  assert.ok(lines.slice(asking).some((l) => /\/why\.ipxe\.\.\. ok/.test(l)), `the /why.ipxe answer was fetched${tail}`);
  // The reason was told, so no second error code and no "decode it yourself" hint after it.
  assert.ok(!lines.slice(asking).some((l) => l.startsWith(SCRIPT_MARKERS.fetchFailed)), tail);
  assert.ok(!/Could not boot/.test(out), `the /why.ipxe script exits 0, so iPXE adds no bogus error code${tail}`);
  assert.deepEqual(r.errors.map((e) => e.line.includes('/boot.ipxe')), [true], `one iPXE error, the refused /boot.ipxe${tail}`);
  // The kept serial log has the words too (the editor and the CLI point people at it).
  assert.ok(fs.readFileSync(r.logFile, 'utf8').includes(said));
  return lines.slice(failed, headline + 2).filter((l) => l).join('\n');
}

test('a revoked client\'s own image shows nginx\'s revoked reason on the serial console', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason || buildSkip) return t.skip(skipReason || buildSkip);
  const r = await boot('dut-revoked');
  t.diagnostic(`dut-revoked: ${r.errors.map((e) => `${e.code} "${e.line}"`).join('; ')} · ${(r.elapsedMs / 1000).toFixed(1)} s`);
  t.diagnostic(`console:\n${assertConsoleSaysWhy(r, TLS_REFUSAL_REASONS.find(([k]) => k === 'FAILED:certificate revoked')![1])}`);
  assert.equal(r.errors[0]!.code, '1d0c6439', 'nginx still answers 400 (HTTP 4xx), as before');
  assert.match(servers!.accessLog(), /"GET \/why\.ipxe" 200 .*verify=FAILED:certificate revoked/);
  assert.equal((await readLastBoots(root))['dut-revoked'], undefined, 'the boot service never saw it');
});

test('a client that left the farm shows the boot service\'s own reason on the serial console', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason || buildSkip) return t.skip(skipReason || buildSkip);
  const r = await boot('dut-gone');
  t.diagnostic(`dut-gone: ${r.errors.map((e) => `${e.code} "${e.line}"`).join('; ')} · ${(r.elapsedMs / 1000).toFixed(1)} s`);
  t.diagnostic(`console:\n${assertConsoleSaysWhy(r, /^client dut-gone is not in the farm \(its certificate is valid but it has no boot mapping\) and the farm has no default profile: ipxe-farm client set dut-gone --profile NAME$/)}`);
  assert.equal(r.errors[0]!.decoded.message, 'HTTP 403 Forbidden');
  const last = (await readLastBoots(root))['dut-gone'];
  assert.equal(last?.status, 403, 'the last boot is the refusal, not the /why.ipxe answer after it');
});

test('the stock EFI stick of a revoked client shows the same reason (autoexec.ipxe runs the farm script)', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason || stockSkip) return t.skip(skipReason || stockSkip);
  const r = await boot('dut-revoked', { efi: true, image: stick!.image, efiVars: stick!.vars });
  t.diagnostic(`console:\n${assertConsoleSaysWhy(r, TLS_REFUSAL_REASONS.find(([k]) => k === 'FAILED:certificate revoked')![1])}`);
  // The same error as the BIOS build's 1d0c6439; the last byte is the platform's (EFI) errno.
  assert.equal(r.errors[0]!.decoded.message, 'HTTP 4xx Client Error');
});
