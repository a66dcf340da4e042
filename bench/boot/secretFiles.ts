/**
 * Boot to the Linux marker with the secret in a secret file (one more mutual-TLS fetch with a one-time URL) against the
 * same profile with the secret on the kernel command line, side by side in one run.
 *
 *   npm run bench -- secret-files [--runs 1]
 *
 * Both boots: Debian's stock EFI iPXE on the client's FAT stick (the path every fresh machine has, no source tree),
 * OVMF with the farm CA, the product's generated nginx on the local runtime, the boot service, the real Debian kernel
 * and the test initramfs, restricted user networking to 127.0.0.1. The only difference is the profile: `cmdline`
 * (MINIO key as b2c.minio=… on the command line) or `file` (the same key in /run/secrets/minio.env). Runs alternate
 * (cmdline, file, cmdline, …) so other load on the machine hits both alike; medians are printed.
 * Figures: time from QEMU start to the Linux marker, and from "script fetched" to "kernel + initrd loaded" (the
 * stage that holds the extra fetch). Target (issue 18): file ≤ cmdline + 0.3 s.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { farmWithPki } from '../../test/support/pki';
import { ensureTestKernel, LINUX_MARKER_RE, SECRET_FILE_RE } from '../../test/support/kernel';
import { farmLayout } from '../../src/core/farm/layout';
import { updateFarm } from '../../src/core/farm/load';
import { setSecret } from '../../src/core/secrets/store';
import { ensureStockIpxe, stockUnavailable } from '../../src/core/stock/debianPackage';
import { buildStockImage } from '../../src/core/stock/image';
import { findOvmf } from '../../src/core/stock/ovmf';
import { clientLaunchOptions } from '../../src/core/qemu/client';
import { bootHeadless } from '../../src/core/qemu/launch';
import { formatStages } from '../../src/core/qemu/stages';
import { missingTools, startFarmServers } from '../../test/integration/e2e/rig';
import { openFarm } from '../../src/core/farm/handle';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' } } });
const RUNS = Math.max(1, Number(values.runs));
const MINIO = 'bench-minio-Zq8/Lp2+Kc==';
const TIMEOUT = 300_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<number> {
  const missing = missingTools(['qemu-system-x86_64', 'socat', 'nginx', 'mformat', 'mcopy']) ?? stockUnavailable() ?? (findOvmf() ? undefined : 'ovmf is not installed');
  if (missing) { console.error(`secret-files bench cannot run here: ${missing}`); return 2; }
  await ensureStockIpxe();
  const root = await farmWithPki('secretbench');
  const layout = farmLayout(root);
  const kernel = await ensureTestKernel();
  fs.copyFileSync(kernel.kernel, path.join(layout.files, 'vmlinuz'));
  fs.copyFileSync(kernel.initrd, path.join(layout.files, 'initrd.gz'));
  await setSecret(root, 'minio', MINIO);
  const extra = ['imgfree autoexec.ipxe ||', 'imgfree boot.ipxe ||'];
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = {
      cmdline: { kernel: 'vmlinuz', initrds: ['initrd.gz'], verify: false, extra, cmdline: 'console=ttyS0 quiet b2c.minio={{secret.minio}}' },
      file: {
        kernel: 'vmlinuz', initrds: ['initrd.gz'], verify: false, extra, cmdline: 'console=ttyS0 quiet',
        secretFiles: [{ path: '/run/secrets/minio.env', content: 'MINIO_SECRET_KEY={{secret.minio}}\n' }],
      },
    };
    raw.clients = { dut1: { profile: 'cmdline', macs: ['52:54:00:00:00:11'], vars: {} } };
  });
  const stick = await buildStockImage(await openFarm(root), 'dut1', { script: { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } });
  const servers = await startFarmServers(root, () => undefined);
  const marker: Record<string, number[]> = { cmdline: [], file: [] };
  const fetch: Record<string, number[]> = { cmdline: [], file: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const profile of ['cmdline', 'file'] as const) {
        await updateFarm(root, (raw) => { ((raw.clients as Record<string, Record<string, unknown>>).dut1!).profile = profile; });
        for (const until = Date.now() + 10_000; servers.service.reloader.state.farm.clients.dut1?.profile !== profile;) {
          if (Date.now() > until) throw new Error('the boot service did not load the profile change');
          await new Promise((r) => setTimeout(r, 100));
        }
        const opts = await clientLaunchOptions(await openFarm(root), 'dut1', { efi: true, image: stick.image, efiVars: stick.vars });
        const r = await bootHeadless({ ...opts, redact: [MINIO], linuxMarker: LINUX_MARKER_RE, headless: { timeoutMs: TIMEOUT, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 3000 } });
        if (r.reason !== 'marker' || r.stages.linuxMarker === undefined) throw new Error(`${profile} boot ended with ${r.reason}:\n${r.output.slice(-2000)}`);
        const files = [...r.output.matchAll(SECRET_FILE_RE)].length;
        if ((profile === 'file') !== (files === 1)) throw new Error(`${profile} boot shows ${files} secret files`);
        marker[profile]!.push(r.stages.linuxMarker);
        fetch[profile]!.push((r.stages.imagesLoaded ?? NaN) - (r.stages.scriptFetched ?? NaN));
        console.log(`run ${run + 1} ${profile.padEnd(7)} ${formatStages(r.stages)}`);
      }
    }
  } finally {
    await servers.stop();
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`\n${RUNS} run(s) each, medians (stock EFI iPXE, OVMF, TCG, ${new Date().toISOString()}):`);
  console.log(`  QEMU start → Linux marker:   cmdline ${s(median(marker.cmdline!))}  file ${s(median(marker.file!))}  Δ ${s(median(marker.file!) - median(marker.cmdline!))}`);
  console.log(`  script → kernel+initrd(s):   cmdline ${s(median(fetch.cmdline!))}  file ${s(median(fetch.file!))}  Δ ${s(median(fetch.file!) - median(fetch.cmdline!))}`);
  return 0;
}

main().then((code) => process.exit(code), (err) => { console.error(err); process.exit(1); });
