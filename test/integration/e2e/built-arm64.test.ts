import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { which } from '../../support/farm';
import { LINUX_MARKER_RE } from '../../support/kernel';
import { loadFarm } from '../../../src/core/farm/load';
import { readLastBoots } from '../../../src/core/boot/events';
import { buildClientImage, imageState, type BuildResult } from '../../../src/core/ipxe/build';
import { assembleClientImage } from '../../../src/core/ipxe/assemble';
import { locateIpxeSource, type IpxeSource } from '../../../src/core/ipxe/source';
import { clientLaunchOptions } from '../../../src/core/qemu/client';
import { bootHeadless } from '../../../src/core/qemu/launch';
import { formatStages } from '../../../src/core/qemu/stages';
import { FarmServers, startFarmServers } from './rig';
import { arm64Farm, arm64Missing, ARM64_SCRIPT, ARM64_TOKEN } from './arm64Farm';
import { openFarm } from '../../../src/core/farm/handle';

// With an iPXE source tree: the arm64 client's own image, cross-built (make CROSS=aarch64-linux-gnu-
// bin-arm64-efi/ipxe.efi, the farm CA as TRUST, its certificate and key compiled in), boots Debian's arm64 kernel
// over mutual TLS under qemu-system-aarch64.

const BOOT_TIMEOUT = 420_000;
let skipReason = '';
let root = '';
let source: IpxeSource | undefined;
let servers: FarmServers | undefined;
let built: BuildResult | undefined;
const serviceLog: string[] = [];

before(async () => {
  skipReason = arm64Missing() ?? (which('aarch64-linux-gnu-gcc') ? '' : 'SKIPPED LOUDLY: gcc-aarch64-linux-gnu is not installed, so no arm64 iPXE can be cross-built');
  for (const tool of ['make', 'perl']) if (!skipReason && !which(tool)) skipReason = `SKIPPED LOUDLY: ${tool} is not installed, so iPXE cannot be built`;
  if (skipReason) return;
  root = await arm64Farm('arm64b');
  try {
    source = await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false });
  } catch (err) {
    skipReason = `SKIPPED LOUDLY: no iPXE source tree (set IPXE_SRC): ${(err as Error).message}`;
    return;
  }
  built = await buildClientImage(await openFarm(root), 'dut1', { source, script: ARM64_SCRIPT, onProgress: (p) => { if (p.stage !== 'make') serviceLog.push(p.message); } });
  serviceLog.push(`built dut1 in ${(built.durationMs / 1000).toFixed(1)} s`);
  servers = await startFarmServers(root, (l) => serviceLog.push(l));
}, { timeout: 40 * 60_000 });

after(async () => {
  await servers?.stop();
});

test('an arm64 client\'s default image is the cross-built EFI stick, tracked like any other', async (t) => {
  if (skipReason) return t.skip(skipReason);
  t.diagnostic(`cross-built in ${(built!.durationMs / 1000).toFixed(1)} s`);
  assert.equal(built!.target, 'efi');
  assert.ok(built!.record.options.makeVars.includes('CROSS=aarch64-linux-gnu-'));
  for (const f of built!.files) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  assert.ok(fs.readFileSync(built!.files[1]!).includes(Buffer.from('BOOTAA64EFI')), 'EFI/BOOT/BOOTAA64.EFI on the stick');
  // An aarch64 PE: machine type 0xaa64 after the PE signature.
  const efi = fs.readFileSync(built!.files[0]!);
  assert.equal(efi.readUInt16LE(efi.readUInt32LE(0x3c) + 4), 0xaa64);
  assert.equal((await imageState(await openFarm(root), 'dut1')).state, 'built');
  // No key material left in the shared tree's arm64 build folder.
  const bin = `${source!.srcDir}/bin-arm64-efi`;
  assert.deepEqual(fs.readdirSync(bin).filter((n) => n === '.private_key.der' || /^privkey.*\.o$/.test(n) || n.startsWith('ipxe.')), []);
});

test('dut2 from the farm\'s shared arm64 iPXE (identity as autoexec.ipxe) boots Debian\'s arm64 kernel over mutual TLS', { timeout: BOOT_TIMEOUT + 20 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const a = await assembleClientImage(await openFarm(root), 'dut2', { source, script: ARM64_SCRIPT });
  t.diagnostic(`dut2 assembled in ${(a.durationMs / 1000).toFixed(2)} s (shared binary ${a.baseReused ? 'reused' : 'built now'})`);
  assert.equal(a.target, 'efi');
  assert.equal(a.record.options.shared, true);
  const opts = await clientLaunchOptions(await openFarm(root), 'dut2');
  const r = await bootHeadless({ ...opts, redact: [ARM64_TOKEN], linuxMarker: LINUX_MARKER_RE, headless: { timeoutMs: BOOT_TIMEOUT, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 3000 } });
  t.diagnostic(`arm64 shared stages: ${formatStages(r.stages)}`);
  assert.equal(r.reason, 'marker', `${r.reason}:\n${r.output.slice(-3000)}`);
  assert.match(r.output, /iPXE Farm: client dut2, boot server/);
  assert.match(r.marker![1]!, /host=dut2\b/);
  assert.equal((await readLastBoots(root)).dut2?.status, 200);
});

test('qemu dut1: the cross-built arm64 iPXE boots Debian\'s arm64 kernel over mutual TLS', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const opts = await clientLaunchOptions(await openFarm(root), 'dut1');
  assert.equal(opts.spec.cpu, 'arm64');
  assert.equal(opts.efiVars, undefined, 'its own image trusts the farm CA by TRUST=, not from firmware');
  assert.equal(opts.spec.network.kind, 'restricted');
  const r = await bootHeadless({ ...opts, redact: [ARM64_TOKEN], linuxMarker: LINUX_MARKER_RE, headless: { timeoutMs: BOOT_TIMEOUT, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 3000 } });
  t.diagnostic(`arm64 built stages: ${formatStages(r.stages)} · ${(r.elapsedMs / 1000).toFixed(1)} s`);
  assert.equal(r.reason, 'marker', `${r.reason}:\n${r.output.slice(-3000)}\n${serviceLog.slice(-10).join('\n')}`);
  assert.match(r.marker![1]!, new RegExp(`farm\\.token=${ARM64_TOKEN}\\b`));
  assert.equal((await readLastBoots(root)).dut1?.status, 200);
});
