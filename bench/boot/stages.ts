/**
 * Boot stage times under QEMU: the product's chain against the same chain configured by hand, side by side in one run.
 *
 *   npx esbuild bench/boot/stages.ts --bundle --platform=node --outfile=out/bench/stages.js && node out/bench/stages.js [--runs 3]
 *
 * Product: farm + PKI from src/core/pki, the image from buildClientImage, the generated nginx config on the local
 * runtime, the boot service rendering dut1's script (imgverify of a signed kernel + initrd), and launchQemu with
 * the farm's client boot options (accelerator probe, stage tracking, redacted serial log).
 * By hand: the same ISO and files, a hand-written mutual-TLS nginx.conf serving a static boot.ipxe with the same
 * lines, and the DESIGN.md §5 qemu-system-x86_64 command line spawned directly, its console read raw.
 * Both boots use restricted user networking to 127.0.0.1 (no packet leaves loopback). Runs alternate (hand, product,
 * hand, …) so load from other work on the machine hits both alike; medians are printed per stage.
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
import { IPXE_SSL_CIPHERS } from '../../src/core/nginx/generate';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Math.max(1, Number(values.runs));
const TOKEN = 'tokB-Bench7Xq2';
const TIMEOUT = 240_000;
const STAGES = Object.keys(STAGE_LABELS) as (keyof BootStages)[];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The hand-written nginx.conf a person following the seed notes would write for this farm. */
function handNginxConf(dir: string, root: string, httpsPort: number, httpPort: number): string {
  const pki = pkiPaths(farmLayout(root));
  return `worker_processes 1;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/t/body; proxy_temp_path ${dir}/t/proxy; fastcgi_temp_path ${dir}/t/fcgi;
  uwsgi_temp_path ${dir}/t/uwsgi; scgi_temp_path ${dir}/t/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${pki.serverChain};
    ssl_certificate_key ${pki.serverKey};
    ssl_protocols TLSv1.2;
    ssl_ciphers ${IPXE_SSL_CIPHERS};
    ssl_client_certificate ${pki.caCert};
    ssl_verify_client on;
    location = /boot.ipxe { alias ${dir}/boot.ipxe; }
  }
  server {
    listen 127.0.0.1:${httpPort};
    root ${farmLayout(root).files};
  }
}
`;
}

async function handBoot(iso: string, httpsPort: number, httpPort: number, accel: 'kvm' | 'tcg'): Promise<BootStages> {
  // DESIGN.md §5's command line, restricted to the farm's two ports as every test boot is.
  const args = qemuArgs({
    firmware: 'bios', accel, memoryMiB: 512, medium: { kind: 'cdrom', path: iso },
    network: { kind: 'restricted', address: '10.0.2.100', forwards: [{ guestPort: httpsPort, hostPort: httpsPort }, { guestPort: httpPort, hostPort: httpPort }] },
    mac: '52:54:00:00:00:21',
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
  for (const f of ['vmlinuz', 'initrd.gz']) await signFile(root, path.join(layout.files, f));
  await setSecret(root, 'token', TOKEN);
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = { linux: { kernel: 'vmlinuz', initrds: ['initrd.gz'], cmdline: 'console=ttyS0 quiet farm.token={{secret.token}} host={{client.name}}', verify: true, extra: [] } };
    raw.clients = { dut1: { profile: 'linux', macs: ['52:54:00:00:00:21'], vars: {} } };
  });
  const t0 = Date.now();
  const built = await buildClientImage(root, 'dut1', { target: 'iso', script: { onFailure: 'poweroff', chainAttempts: 1 } });
  console.log(`# image: ${built.files[0]} (${((Date.now() - t0) / 1000).toFixed(1)} s, iPXE tree ${sourceDir})`);
  const { farm } = await loadFarm(root);
  const { httpsPort, httpPort } = farm.server;
  const accel = (await probeAccel()).accel;
  console.log(`# accelerator: ${accel}; ${RUNS} run(s) each, alternating; Linux marker = the busybox init's cmdline line`);

  // By hand: the same script lines the boot service renders for dut1, as a static file.
  const handDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-bench-hand-'));
  fs.chmodSync(handDir, 0o755);
  fs.mkdirSync(path.join(handDir, 't'));
  const http = `http://10.0.2.100:${httpPort}`;
  fs.writeFileSync(path.join(handDir, 'boot.ipxe'), [
    '#!ipxe',
    `kernel --name kernel ${http}/vmlinuz console=ttyS0 quiet farm.token=${TOKEN} host=dut1`,
    `imgverify kernel ${http}/vmlinuz.sig`,
    `initrd --name initrd0 ${http}/initrd.gz`,
    `imgverify initrd0 ${http}/initrd.gz.sig`,
    'boot', '',
  ].join('\n'));
  fs.writeFileSync(path.join(handDir, 'nginx.conf'), handNginxConf(handDir, root, httpsPort, httpPort));

  const results: Record<'hand' | 'product', BootStages[]> = { hand: [], product: [] };
  fs.chmodSync(path.dirname(root), 0o711);
  for (let i = 0; i < RUNS; i++) {
    // By hand: nginx -p … -c nginx.conf in the foreground, then the qemu line.
    const nginx = spawn('nginx', ['-p', `${handDir}/`, '-c', path.join(handDir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    try {
      results.hand.push(await handBoot(built.files[0]!, httpsPort, httpPort, accel));
    } finally {
      nginx.kill('SIGQUIT');
      await new Promise((r) => nginx.once('exit', r));
    }
    console.log(`hand    #${i + 1}: ${STAGES.map((s) => `${s}=${((results.hand.at(-1)![s] ?? NaN) / 1000).toFixed(2)}`).join(' ')}`);

    const servers = await startFarmServers(root, () => undefined);
    try {
      const r = await bootHeadless({ ...(await clientLaunchOptions(root, 'dut1')), redact: [TOKEN], headless: { timeoutMs: TIMEOUT, marker: LINUX_MARKER_RE } });
      if (r.reason !== 'marker') throw new Error(`product boot ended with ${r.reason}:\n${r.output.slice(-1500)}`);
      results.product.push(r.stages);
    } finally {
      await servers.stop();
    }
    console.log(`product #${i + 1}: ${STAGES.map((s) => `${s}=${((results.product.at(-1)![s] ?? NaN) / 1000).toFixed(2)}`).join(' ')}`);
  }

  console.log('\nstage (median s, from QEMU start)   by hand   product   product - hand');
  for (const s of STAGES) {
    const h = median(results.hand.map((x) => x[s] ?? NaN)) / 1000;
    const p = median(results.product.map((x) => x[s] ?? NaN)) / 1000;
    console.log(`${STAGE_LABELS[s].padEnd(34)} ${h.toFixed(2).padStart(8)} ${p.toFixed(2).padStart(9)} ${(p - h >= 0 ? '+' : '') + (p - h).toFixed(2).padStart(8)}`);
  }
  const seg = (x: BootStages) => (x.scriptFetched! - x.dhcpOk!) / 1000;
  console.log(`\nscript over mTLS (DHCP ok -> script fetched), median: by hand ${median(results.hand.map(seg)).toFixed(2)} s, product ${median(results.product.map(seg)).toFixed(2)} s`);
  const delta = median(results.product.map((x) => x.linuxMarker!)) / 1000 - median(results.hand.map((x) => x.linuxMarker!)) / 1000;
  console.log(`product adds ${delta.toFixed(2)} s to the Linux marker (target <= 0.3 s): ${delta <= 0.3 ? 'MET' : 'NOT MET'}`);
  fs.rmSync(handDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
