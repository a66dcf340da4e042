import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { ensureTestKernel, LINUX_MARKER_RE } from '../../support/kernel';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { setSecret } from '../../../src/core/secrets/store';
import { readLastBoots } from '../../../src/core/boot/events';
import { ensureStockIpxe, stockUnavailable } from '../../../src/core/stock/debianPackage';
import { buildStockImage, StockImageResult } from '../../../src/core/stock/image';
import { findOvmf } from '../../../src/core/stock/ovmf';
import { clientLaunchOptions } from '../../../src/core/qemu/client';
import { bootHeadless, QemuResult } from '../../../src/core/qemu/launch';
import { formatStages } from '../../../src/core/qemu/stages';
import { FarmServers, missingTools, startFarmServers } from './rig';
import { openFarm } from '../../../src/core/farm/handle';

// The path that needs no compiler and no iPXE source: Debian's prebuilt EFI iPXE on a FAT stick whose autoexec.ipxe
// carries the client's certificate and key, OVMF with the farm CA enrolled as TlsCaCertificate, the product's nginx
// and boot service, and a served script that pins the kernel and initrd by SHA-256 (a stock binary has no imgverify).

const TOKEN = 'tokS-Lp3Qa9Vx27';
const BOOT_TIMEOUT = 300_000;
let skipReason = '';
let root = '';
let servers: FarmServers | undefined;
let stick: StockImageResult | undefined;
const serviceLog: string[] = [];
const sha256 = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

before(async () => {
  skipReason = missingTools(['qemu-system-x86_64', 'socat', 'nginx', 'mformat', 'mcopy']) ?? stockUnavailable() ?? (findOvmf() ? '' : 'SKIPPED LOUDLY: ovmf is not installed (apt-get install ovmf)');
  if (skipReason) return;
  try {
    await ensureStockIpxe();
  } catch (err) {
    skipReason = `SKIPPED LOUDLY: Debian's stock iPXE could not be downloaded: ${(err as Error).message}`;
    return;
  }
  root = await farmWithPki('stock');
  const layout = farmLayout(root);
  const kernel = await ensureTestKernel();
  fs.copyFileSync(kernel.kernel, path.join(layout.files, 'vmlinuz'));
  fs.copyFileSync(kernel.initrd, path.join(layout.files, 'initrd.gz'));
  // Served in place of the pinned kernel by the "swapped" profile: what an attacker on the plain-HTTP path would do.
  const swapped = fs.readFileSync(kernel.kernel);
  swapped[swapped.length - 100] = swapped[swapped.length - 100]! ^ 0xff;
  fs.writeFileSync(path.join(layout.files, 'vmlinuz-swapped'), swapped);
  const [kh, ih] = [sha256(kernel.kernel), sha256(kernel.initrd)];
  await setSecret(root, 'token', TOKEN);
  const pin = (name: string, hash: string, what: string) => [
    `sha256sum --set farm_sum ${name}`,
    `iseq \${farm_sum} ${hash} || echo iPXE Farm: ${what} does not have the pinned SHA-256, not booting`,
    `iseq \${farm_sum} ${hash} || exit 1`,
  ];
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = {
      pinned: {
        kernel: 'vmlinuz', initrds: ['initrd.gz'], verify: false,
        cmdline: 'console=ttyS0 quiet farm.token={{secret.token}} host={{client.name}}',
        // Stray images (the autoexec and boot scripts) would be handed to Linux as extra initrds on EFI.
        extra: [...pin('kernel', kh, 'the kernel'), ...pin('initrd0', ih, 'the initrd'), 'imgfree autoexec.ipxe ||', 'imgfree boot.ipxe ||'],
      },
      swapped: {
        kernel: 'vmlinuz-swapped', initrds: ['initrd.gz'], verify: false,
        cmdline: 'console=ttyS0 quiet farm.token={{secret.token}} host={{client.name}}',
        extra: [...pin('kernel', kh, 'the kernel'), ...pin('initrd0', ih, 'the initrd'), 'imgfree autoexec.ipxe ||', 'imgfree boot.ipxe ||'],
      },
    };
    raw.clients = { dut1: { profile: 'pinned', macs: ['52:54:00:00:00:11'], vars: {} } };
  });
  stick = await buildStockImage(await openFarm(root), 'dut1', { script: { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } });
  servers = await startFarmServers(root, (l) => serviceLog.push(l));
}, { timeout: 10 * 60_000 });

after(async () => {
  await servers?.stop();
});

async function bootStick(vars: string, headless: Partial<Parameters<typeof bootHeadless>[0]['headless']> = {}): Promise<QemuResult> {
  const opts = await clientLaunchOptions(await openFarm(root), 'dut1', { efi: true, image: stick!.image, efiVars: vars });
  assert.equal(opts.spec.network.kind, 'restricted');
  return bootHeadless({ ...opts, redact: [TOKEN], linuxMarker: LINUX_MARKER_RE, headless: { timeoutMs: BOOT_TIMEOUT, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 3000, ...headless } });
}

function explain(r: QemuResult): string {
  return `${r.reason} after ${(r.elapsedMs / 1000).toFixed(1)} s; console tail:\n${r.output.slice(-3000)}\nservice:\n${serviceLog.slice(-10).join('\n')}`;
}

test('stock-image writes a 0600 stick and a 0600 variable store, in the client\'s 0700 folder', (t) => {
  if (skipReason) return t.skip(skipReason);
  for (const f of [stick!.image, stick!.vars]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  assert.equal(fs.statSync(path.dirname(stick!.image)).mode & 0o777, 0o700);
  assert.match(stick!.ipxeVersion, /^2\./);
});

test('stock EFI iPXE boots over mutual TLS with the CA from firmware, the served script pins kernel + initrd, Linux prints the secret', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const r = await bootStick(stick!.vars);
  t.diagnostic(`stock EFI stages: ${formatStages(r.stages)}`);
  assert.equal(r.reason, 'marker', explain(r));
  assert.match(r.marker![1]!, new RegExp(`farm\\.token=${TOKEN}\\b`));
  assert.match(r.marker![1]!, /host=dut1\b/);
  assert.equal(r.downloads[0]?.url, `https://10.0.2.100:${(await loadFarm(root)).farm.server.httpsPort}/boot.ipxe`);
  assert.equal((await readLastBoots(root)).dut1?.status, 200);
  assert.doesNotMatch(fs.readFileSync(r.logFile, 'utf8'), new RegExp(TOKEN));
});

test('without the farm CA in the firmware, the same stick refuses the server: no usable certificates', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const r = await bootStick(findOvmf()!.vars);
  t.diagnostic(`pristine OVMF variables: ${r.errors.map((e) => `${e.code} "${e.line}"`).join('; ')}`);
  assert.notEqual(r.reason, 'marker', explain(r));
  const e = r.errors.find((x) => x.code.startsWith('0216eb'));
  assert.ok(e, `expected iPXE 0216eb3c/0216eb8f (no usable certificates), saw [${r.errors.map((x) => x.code).join(', ')}]\n${explain(r)}`);
  assert.match(`${e.decoded.message} ${e.decoded.cause ?? ''}`, /certificate/i);
  assert.equal(r.stages.scriptFetched, undefined);
});

test('a kernel that does not match the pinned SHA-256 is not booted', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  await updateFarm(root, (raw) => { ((raw.clients as Record<string, Record<string, unknown>>).dut1!).profile = 'swapped'; });
  await new Promise((r) => setTimeout(r, 1500));
  let r: QemuResult;
  try {
    r = await bootStick(stick!.vars, { marker: /does not have the pinned SHA-256|IPXE-FARM-LINUX-UP/ });
  } finally {
    await updateFarm(root, (raw) => { ((raw.clients as Record<string, Record<string, unknown>>).dut1!).profile = 'pinned'; });
  }
  assert.equal(r.reason, 'marker', explain(r));
  assert.match(r.output, /iPXE Farm: the kernel does not have the pinned SHA-256, not booting/, explain(r));
  assert.equal(r.stages.linuxMarker, undefined);
  assert.ok(r.stages.scriptFetched !== undefined);
});

// The CLI a fresh machine's user types (secure-boot.test.ts does the same with a built ISO, which needs a source tree).
test('the CLI: `ipxe-farm qemu dut1 --headless` boots the stock stick made last to Linux (exit 0); with pristine firmware variables (--vars) it explains the refusal (exit 1)', { timeout: 2 * BOOT_TIMEOUT + 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const cli = path.resolve(__dirname, '..', '..', '..', 'cli.js');
  if (!fs.existsSync(cli)) return t.skip(`SKIPPED LOUDLY: ${cli} is not built (npm run build)`);
  const ipxeFarm = (args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args, '--farm', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  const common = ['qemu', 'dut1', '--headless', '--timeout', String(BOOT_TIMEOUT / 1000)];
  // Nothing named: the stick stock-image made last, under OVMF with its CA-enrolled variables.
  const ok = await ipxeFarm([...common, '--until', 'IPXE-FARM-LINUX-UP cmdline: .*host=dut1']);
  assert.equal(ok.status, 0, `${ok.stderr}\n${ok.stdout.slice(-1500)}`);
  assert.match(ok.stdout, /IPXE-FARM-LINUX-UP cmdline: .*host=dut1/);
  assert.match(ok.stderr, /QEMU reached the marker after [\d.]+ s\.\nBoot stages: iPXE up [\d.]+ s · DHCP ok/);
  assert.match(ok.stderr, /stock-efi\.img/, 'the command line QEMU ran boots the stick');
  const refused = await ipxeFarm([...common, '--efi', '--image', stick!.image, '--vars', findOvmf()!.vars]);
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /iPXE error 0216eb[0-9a-f]{2}/);
  assert.match(refused.stderr, /Serial log: .*\.serial\.log/);
});
