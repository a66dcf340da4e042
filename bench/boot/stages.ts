/**
 * Boot stage times under QEMU: the product's image against the seed's chain built by hand, side by side in one run.
 *
 *   npm run bench -- stages [--runs 5]
 *
 * Product: farm + PKI from src/core/pki, dut1's image from buildClientImage (the farm-tuned iPXE configuration:
 * config/local/ipxefarm + config/local/dhcp.h), launched with launchQemu and the farm's client boot options.
 * By hand: dut2's ISO built from a scratch copy of the same iPXE tree with iPXE's stock configuration, the seed's
 * `dhcp` + `chain https://…` script and the seed's make line (handChain.ts), started with DESIGN.md §5's
 * qemu-system-x86_64 command line, its console read raw.
 * Both chain to the same nginx (generated mutual-TLS config, local runtime) and the same boot service, which serves
 * both clients the same profile (kernel + initrd, each checked with imgverify). Both boots use restricted user
 * networking to 127.0.0.1 (no packet leaves loopback). Runs alternate (hand, product, hand, …) so load from other
 * work on the machine hits both alike; medians are printed per stage, with the load average before and after.
 * Needs an iPXE source tree (IPXE_SRC or the per-user cache of v2.0.0); says so and exits 2 without one.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { farmWithPki } from '../../test/support/pki';
import { ensureTestKernel, LINUX_MARKER_RE } from '../../test/support/kernel';
import { farmLayout } from '../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../src/core/farm/load';
import { pkiPaths } from '../../src/core/pki/paths';
import { signFile } from '../../src/core/pki';
import { setSecret } from '../../src/core/secrets/store';
import { buildClientImage } from '../../src/core/ipxe/build';
import { locateIpxeSource } from '../../src/core/ipxe/source';
import { clientLaunchOptions } from '../../src/core/qemu/client';
import { bootHeadless } from '../../src/core/qemu/launch';
import { BootStages, BootStageTracker, STAGE_LABELS } from '../../src/core/qemu/stages';
import { qemuArgs, QEMU_PROGRAM } from '../../src/core/qemu/args';
import { probeAccel } from '../../src/core/qemu/accel';
import { startFarmServers } from '../../test/integration/e2e/rig';
import { buildHandChain } from './handChain';
import { openFarm } from '../../src/core/farm/handle';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Math.max(1, Number(values.runs));
const TOKEN = 'tokB-Bench7Xq2';
const TIMEOUT = 240_000;
const STAGES = Object.keys(STAGE_LABELS) as (keyof BootStages)[];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const secs = (ms: number | undefined) => ((ms ?? NaN) / 1000).toFixed(2);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function handBoot(iso: string, httpsPort: number, httpPort: number, accel: 'kvm' | 'tcg'): Promise<BootStages> {
  // DESIGN.md §5's command line, restricted to the farm's two ports as every test boot is.
  const args = qemuArgs({
    firmware: 'bios', accel, memoryMiB: 512, medium: { kind: 'cdrom', path: iso },
    network: { kind: 'restricted', address: '10.0.2.100', forwards: [{ guestPort: httpsPort, hostPort: httpsPort }, { guestPort: httpPort, hostPort: httpPort }] },
    mac: '52:54:00:00:00:22',
  });
  const tracker = new BootStageTracker(LINUX_MARKER_RE);
  const t0 = Date.now();
  const child = spawn(QEMU_PROGRAM, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return new Promise((resolve, reject) => {
    const kill = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
    const timer = setTimeout(() => { kill(); reject(new Error(`hand boot timed out:\n${tracker.plain.slice(-1500)}`)); }, TIMEOUT);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      tracker.feed(d, Date.now() - t0);
      if (tracker.stages.linuxMarker !== undefined) { clearTimeout(timer); kill(); resolve({ ...tracker.stages }); }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      if (tracker.stages.linuxMarker !== undefined) resolve({ ...tracker.stages });
      else reject(new Error(`hand boot ended without the marker:\n${tracker.plain.slice(-1500)}`));
    });
  });
}

async function main(): Promise<void> {
  const root = await farmWithPki('bench');
  const layout = farmLayout(root);
  let sourceDir: string;
  try {
    sourceDir = (await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false })).dir;
  } catch (err) {
    console.error(`No iPXE source tree, so no image to boot: ${(err as Error).message}`);
    process.exit(2);
  }
  const kernel = await ensureTestKernel();
  fs.copyFileSync(kernel.kernel, path.join(layout.files, 'vmlinuz'));
  fs.copyFileSync(kernel.initrd, path.join(layout.files, 'initrd.gz'));
  for (const f of ['vmlinuz', 'initrd.gz']) await signFile(await openFarm(root), path.join(layout.files, f));
  await setSecret(root, 'token', TOKEN);
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = { linux: { kernel: 'vmlinuz', initrds: ['initrd.gz'], cmdline: 'console=ttyS0 quiet farm.token={{secret.token}} host={{client.name}}', verify: true, extra: [] } };
    raw.clients = {
      dut1: { profile: 'linux', macs: ['52:54:00:00:00:21'], vars: {} },
      dut2: { profile: 'linux', macs: ['52:54:00:00:00:22'], vars: {} },
    };
  });
  const { farm } = await loadFarm(root);
  const { httpsPort, httpPort } = farm.server;
  console.log(`# load average (1/5/15 min) at start: ${load()}; ${os.availableParallelism()} CPUs`);
  const t0 = Date.now();
  const built = await buildClientImage(await openFarm(root), 'dut1', { target: 'iso', script: { onFailure: 'poweroff', chainAttempts: 1 } });
  console.log(`# product image: ${built.files[0]} (${((Date.now() - t0) / 1000).toFixed(1)} s, iPXE tree ${sourceDir}, ipxe.proxyDhcp=${farm.ipxe.proxyDhcp}, ipxe.fastDhcpRetry=${farm.ipxe.fastDhcpRetry})`);
  const pki = pkiPaths(layout);
  const hand = await buildHandChain(sourceDir, { ca: pki.caCert, cert: pki.clientCert('dut2'), key: pki.clientKey('dut2') }, `https://10.0.2.100:${httpsPort}/boot.ipxe`);
  console.log(`# hand-made image: stock configuration in a scratch copy of ${sourceDir}, clean build ${hand.buildSeconds.toFixed(1)} s`);
  const accel = (await probeAccel()).accel;
  console.log(`# accelerator: ${accel}; ${RUNS} run(s) each, alternating; Linux marker = the busybox init's cmdline line`);

  const results: Record<'hand' | 'product', BootStages[]> = { hand: [], product: [] };
  const servers = await startFarmServers(root, () => undefined);
  try {
    for (let i = 0; i < RUNS; i++) {
      results.hand.push(await handBoot(hand.iso, httpsPort, httpPort, accel));
      console.log(`hand    #${i + 1}: ${STAGES.map((s) => `${s}=${secs(results.hand.at(-1)![s])}`).join(' ')}`);
      const r = await bootHeadless({ ...(await clientLaunchOptions(await openFarm(root), 'dut1')), redact: [TOKEN], headless: { timeoutMs: TIMEOUT, marker: LINUX_MARKER_RE } });
      if (r.reason !== 'marker') throw new Error(`product boot ended with ${r.reason}:\n${r.output.slice(-1500)}`);
      results.product.push(r.stages);
      console.log(`product #${i + 1}: ${STAGES.map((s) => `${s}=${secs(results.product.at(-1)![s])}`).join(' ')}`);
    }
  } finally {
    await servers.stop();
    hand.dispose();
  }

  console.log(`\n| stage (median s from QEMU start) | by hand | product | product − hand |\n|---|---:|---:|---:|`);
  for (const s of STAGES) {
    const h = median(results.hand.map((x) => x[s] ?? NaN)) / 1000;
    const p = median(results.product.map((x) => x[s] ?? NaN)) / 1000;
    console.log(`| ${STAGE_LABELS[s]} | ${h.toFixed(2)} | ${p.toFixed(2)} | ${(p - h >= 0 ? '+' : '') + (p - h).toFixed(2)} |`);
  }
  const seg = (a: keyof BootStages, b: keyof BootStages) => (x: BootStages) => (x[b]! - x[a]!) / 1000;
  for (const [a, b] of [['ipxeUp', 'dhcpOk'], ['dhcpOk', 'scriptFetched'], ['scriptFetched', 'imagesLoaded'], ['imagesLoaded', 'linuxMarker']] as const) {
    console.log(`${STAGE_LABELS[a]} -> ${STAGE_LABELS[b]}, median: by hand ${median(results.hand.map(seg(a, b))).toFixed(2)} s, product ${median(results.product.map(seg(a, b))).toFixed(2)} s`);
  }
  const h = median(results.hand.map((x) => x.linuxMarker!)) / 1000;
  const p = median(results.product.map((x) => x.linuxMarker!)) / 1000;
  console.log(`\nLinux marker, median: by hand ${h.toFixed(2)} s, product ${p.toFixed(2)} s: product ${(h - p).toFixed(2)} s sooner (target >= 2.00 s): ${h - p >= 2.0 ? 'MET' : 'NOT MET'}`);
  console.log(`# load average (1/5/15 min) at end: ${load()}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
