/**
 * arm64 boot to the Linux marker under TCG: the product (`ipxe-farm qemu dut1`'s launch: clientLaunchOptions +
 * bootHeadless, with its accelerator choice, per-run AAVMF VARS copy, stage tracking and redacted serial log) against
 * the same chain by hand (the same stock stick and CA-enrolled AAVMF store, the same farm servers, and the DESIGN.md
 * §9 qemu-system-aarch64 command line typed out and spawned directly, its console read raw). Runs alternate.
 *   npm run bench -- arm64 [--runs 2]
 * Target: product ≤ hand + 0.3 s (median).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { LINUX_MARKER_RE } from '../../test/support/kernel';
import { arm64Farm, ARM64_SCRIPT } from '../../test/integration/e2e/arm64Farm';
import { startFarmServers } from '../../test/integration/e2e/rig';
import { loadFarm } from '../../src/core/farm/load';
import { buildStockImage } from '../../src/core/stock/image';
import { findOvmf } from '../../src/core/stock/ovmf';
import { clientLaunchOptions } from '../../src/core/qemu/client';
import { bootHeadless } from '../../src/core/qemu/launch';
import { openFarm } from '../../src/core/farm/handle';

const { values: o } = parseArgs({ options: { runs: { type: 'string', default: '2' } } });
const runs = Number(o.runs);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function byHand(stick: string, vars: string, https: number, http: number): Promise<number> {
  const fw = findOvmf('arm64')!;
  const copy = path.join(os.tmpdir(), `arm64-hand-${process.pid}.fd`);
  const t0 = Date.now();
  fs.copyFileSync(vars, copy);
  const fwd = (p: number) => `guestfwd=tcp:10.0.2.100:${p}-cmd:socat STDIO TCP:127.0.0.1:${p}`;
  const child = spawn('qemu-system-aarch64', [
    '-M', 'virt', '-cpu', 'max', '-accel', 'tcg', '-m', '512', '-nographic', '-no-reboot',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${fw.code}`, '-drive', `if=pflash,format=raw,unit=1,file=${copy}`,
    '-drive', `if=none,id=boot0,format=raw,file=${stick}`, '-device', 'virtio-blk-pci,drive=boot0,bootindex=0',
    '-netdev', `user,id=n0,restrict=on,${fwd(https)},${fwd(http)}`, '-device', 'virtio-net-pci,netdev=n0,romfile=,mac=52:54:00:00:00:a1',
  ], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const ms = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`by hand: no marker in 10 min\n${out.slice(-2000)}`)), 600_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (LINUX_MARKER_RE.test(out)) { clearTimeout(timer); resolve(Date.now() - t0); }
    });
  });
  try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
  fs.rmSync(copy, { force: true });
  return ms;
}

async function main(): Promise<void> {
  const root = await arm64Farm('arm64bench');
  const stick = await buildStockImage(await openFarm(root), 'dut1', { script: ARM64_SCRIPT });
  const servers = await startFarmServers(root, () => undefined);
  const { farm } = await loadFarm(root);
  const hand: number[] = [];
  const product: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      hand.push(await byHand(stick.image, stick.vars, farm.server.httpsPort, farm.server.httpPort));
      const r = await bootHeadless({ ...(await clientLaunchOptions(await openFarm(root), 'dut1')), headless: { timeoutMs: 600_000, marker: LINUX_MARKER_RE } });
      if (r.reason !== 'marker') throw new Error(`product: ${r.reason}\n${r.output.slice(-2000)}`);
      product.push(r.elapsedMs);
      console.log(`run ${i + 1}: hand ${(hand[i]! / 1000).toFixed(1)} s · product ${(r.elapsedMs / 1000).toFixed(1)} s (${((r.elapsedMs - hand[i]!) / 1000).toFixed(2)} s) · load ${os.loadavg()[0]!.toFixed(1)}`);
    }
  } finally {
    await servers.stop();
  }
  const d = median(product) - median(hand);
  console.log(`arm64 stock boot to Linux marker, median of ${runs}: hand ${(median(hand) / 1000).toFixed(1)} s, product ${(median(product) / 1000).toFixed(1)} s, difference ${(d / 1000).toFixed(2)} s · target ≤ hand + 0.3 s: ${d <= 300 ? 'OK' : 'OVER TARGET'}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
