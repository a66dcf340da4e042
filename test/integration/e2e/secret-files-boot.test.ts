import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { ensureTestKernel, LINUX_MARKER_RE, SECRET_FILE_RE } from '../../support/kernel';
import { farmLayout } from '../../../src/core/farm/layout';
import { nginxPaths } from '../../../src/core/nginx/paths';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { buildClientImage } from '../../../src/core/ipxe/build';
import { locateIpxeSource, type IpxeSource } from '../../../src/core/ipxe/source';
import { setSecret } from '../../../src/core/secrets/store';
import { readBootEvents } from '../../../src/core/boot/events';
import { ensureStockIpxe, stockUnavailable } from '../../../src/core/stock/debianPackage';
import { buildStockImage, StockImageResult } from '../../../src/core/stock/image';
import { findOvmf } from '../../../src/core/stock/ovmf';
import { clientLaunchOptions } from '../../../src/core/qemu/client';
import { bootHeadless, QemuResult } from '../../../src/core/qemu/launch';
import { formatStages } from '../../../src/core/qemu/stages';
import { FarmServers, missingTools, startFarmServers } from './rig';
import { openFarm } from '../../../src/core/farm/handle';

// Secret files end to end on the path every fresh machine has (Debian's stock EFI iPXE, OVMF, the product's nginx and
// boot service, a real Linux kernel): iPXE fetches /run/secrets/minio.env with its one-time URL over mutual TLS and
// adds it to the initramfs; the guest's init prints the file's SHA-256 and mode, and its /proc/cmdline. The secret
// must be in the file, and nowhere else: not on the command line, not in the serial log, nginx's logs or the events.

const MINIO = 'mn-9QzK/2vL+eR4t==secret';
const CONTENT = `MINIO_ROOT_USER=farm\nMINIO_ROOT_PASSWORD=${MINIO}\n`;
const BOOT_TIMEOUT = 300_000;
let skipReason = '';
let root = '';
let servers: FarmServers | undefined;
let stick: StockImageResult | undefined;
const serviceLog: string[] = [];
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

before(async () => {
  skipReason = missingTools(['qemu-system-x86_64', 'socat', 'nginx', 'mformat', 'mcopy']) ?? stockUnavailable() ?? (findOvmf() ? '' : 'SKIPPED LOUDLY: ovmf is not installed (apt-get install ovmf)');
  if (skipReason) return;
  try {
    await ensureStockIpxe();
  } catch (err) {
    skipReason = `SKIPPED LOUDLY: Debian's stock iPXE could not be downloaded: ${(err as Error).message}`;
    return;
  }
  root = await farmWithPki('secretboot');
  const layout = farmLayout(root);
  const kernel = await ensureTestKernel();
  fs.copyFileSync(kernel.kernel, path.join(layout.files, 'vmlinuz'));
  fs.copyFileSync(kernel.initrd, path.join(layout.files, 'initrd.gz'));
  const [kh, ih] = [sha256(fs.readFileSync(kernel.kernel)), sha256(fs.readFileSync(kernel.initrd))];
  await setSecret(root, 'minio', MINIO);
  const pin = (name: string, hash: string) => [`sha256sum --set farm_sum ${name}`, `iseq \${farm_sum} ${hash} || exit 1`];
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = {
      b2c: {
        kernel: 'vmlinuz', initrds: ['initrd.gz'], verify: false,
        cmdline: 'console=ttyS0 quiet host={{client.name}}',
        secretFiles: [{ path: '/run/secrets/minio.env', content: 'MINIO_ROOT_USER=farm\nMINIO_ROOT_PASSWORD={{secret.minio}}\n' }],
        // Stray images (the autoexec and boot scripts) would be handed to Linux as extra initrds on EFI.
        extra: [...pin('kernel', kh), ...pin('initrd0', ih), 'imgfree autoexec.ipxe ||', 'imgfree boot.ipxe ||'],
      },
    };
    raw.clients = { dut1: { profile: 'b2c', macs: ['52:54:00:00:00:11'], vars: {} } };
  });
  stick = await buildStockImage(await openFarm(root), 'dut1', { script: { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } });
  servers = await startFarmServers(root, (l) => serviceLog.push(l));
}, { timeout: 10 * 60_000 });

after(async () => {
  await servers?.stop();
});

function explain(r: QemuResult): string {
  return `${r.reason} after ${(r.elapsedMs / 1000).toFixed(1)} s; console tail:\n${r.output.slice(-3000)}\nservice:\n${serviceLog.slice(-10).join('\n')}`;
}

/** What every boot must show: the file with the secret, 0600; the secret on no command line and in no log. */
async function assertSecretOnlyInFile(r: QemuResult, servedSoFar: number): Promise<void> {
  assert.equal(r.reason, 'marker', explain(r));
  const files = [...r.output.matchAll(SECRET_FILE_RE)].map((m) => ({ path: m[1], sha256: m[2], mode: m[3] }));
  assert.deepEqual(files, [{ path: '/run/secrets/minio.env', sha256: sha256(CONTENT), mode: '600' }], explain(r));
  assert.match(r.marker![1]!, /host=dut1\b/);
  assert.ok(!r.marker![1]!.includes(MINIO), '/proc/cmdline holds the secret');
  const serial = fs.readFileSync(r.logFile, 'utf8');
  assert.ok(!serial.includes(MINIO) && !r.output.includes(MINIO), 'the serial log holds the secret');
  assert.match(serial, /\/secret\/«token» \/run\/secrets\/minio\.env|\/secret\/«token»/, 'iPXE printed the secret file\'s URL, its token redacted');
  assert.doesNotMatch(serial, /\/secret\/[A-Za-z0-9_-]{43}/, 'a one-time token in the serial log');
  const access = servers!.accessLog();
  assert.match(access, /"GET \/secret\/\.\.\." 200 .*verify=SUCCESS/);
  assert.doesNotMatch(access, /\/secret\/[A-Za-z0-9_-]{20}/, 'a token in the access log');
  const errorLog = nginxPaths(farmLayout(root), 'local').errorLog;
  if (fs.existsSync(errorLog)) assert.ok(!fs.readFileSync(errorLog, 'utf8').includes(MINIO));
  const events = await readBootEvents(root);
  assert.ok(!JSON.stringify(events).includes(MINIO));
  const served = events.filter((e) => e.reason === 'secret file served' && e.client === 'dut1' && e.secretFile === '/run/secrets/minio.env');
  assert.equal(served.length, servedSoFar, JSON.stringify(events));
  assert.ok(!serviceLog.join('\n').includes(MINIO));
}

test('stock EFI: the secret arrives as /run/secrets/minio.env (0600), not on /proc/cmdline, and in no log', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const opts = await clientLaunchOptions(await openFarm(root), 'dut1', { efi: true, image: stick!.image, efiVars: stick!.vars });
  assert.equal(opts.spec.network.kind, 'restricted');
  // No redaction: the serial log must hold no secret by itself.
  const r = await bootHeadless({ ...opts, linuxMarker: LINUX_MARKER_RE, headless: { timeoutMs: BOOT_TIMEOUT, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 3000 } });
  t.diagnostic(`stock EFI with a secret file: ${formatStages(r.stages)}`);
  await assertSecretOnlyInFile(r, 1);
});

test('built BIOS image (IPXE_SRC): the same file through a bzImage boot', { timeout: 30 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  let source: IpxeSource;
  try {
    source = await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false });
  } catch (err) {
    return t.skip(`SKIPPED LOUDLY: no iPXE source tree (set IPXE_SRC): ${(err as Error).message}`);
  }
  if (missingTools(['make', 'gcc', 'xorriso'])) return t.skip(missingTools(['make', 'gcc', 'xorriso'])!);
  await buildClientImage(await openFarm(root), 'dut1', { target: 'iso', source, script: { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } });
  const opts = await clientLaunchOptions(await openFarm(root), 'dut1');
  assert.equal(opts.spec.network.kind, 'restricted');
  const servedBefore = (await readBootEvents(root)).filter((e) => e.reason === 'secret file served').length;
  const r = await bootHeadless({ ...opts, linuxMarker: LINUX_MARKER_RE, headless: { timeoutMs: BOOT_TIMEOUT, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 3000 } });
  t.diagnostic(`built BIOS ISO with a secret file: ${formatStages(r.stages)}`);
  await assertSecretOnlyInFile(r, servedBefore + 1);
});

test('stock EFI: a one-time URL that expired before iPXE fetched it is refused, and the console says why', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  // One second, and nginx sends the kernel and initrd (fetched before the secret file) at 1 MB/s: ~9 s, whatever the
  // speed of the machine, so the token has always expired when iPXE asks for it.
  await updateFarm(root, (raw) => { raw.boot = { secretTtl: 1 }; });
  const filesConf = path.join(farmLayout(root).nginx, 'conf.d', 'files-http.conf');
  const original = fs.readFileSync(filesConf, 'utf8');
  fs.writeFileSync(filesConf, original.replace('autoindex off;', 'autoindex off;\n    limit_rate 1m;'));
  assert.ok((await servers!.nginx.reload()).reloaded, 'nginx took the rate limit');
  try {
    for (const until = Date.now() + 10_000; servers!.service.reloader.state.farm.boot?.secretTtl !== 1;) {
      if (Date.now() > until) assert.fail('the boot service did not load boot.secretTtl');
      await new Promise((r) => setTimeout(r, 100));
    }
    const opts = await clientLaunchOptions(await openFarm(root), 'dut1', { efi: true, image: stick!.image, efiVars: stick!.vars });
    const told = /iPXE Farm refused a secret file of this machine:\s*\r?\n[^\n]*expired before it was fetched/;
    const r = await bootHeadless({ ...opts, linuxMarker: LINUX_MARKER_RE, headless: { timeoutMs: BOOT_TIMEOUT, marker: told } });
    t.diagnostic(`expired token: ${formatStages(r.stages)}`);
    assert.equal(r.reason, 'marker', explain(r));
    assert.equal(r.stages.linuxMarker, undefined, 'Linux must not boot without its secret file');
    assert.ok(!r.output.includes(MINIO));
    const refused = (await readBootEvents(root)).filter((e) => e.path === '/secret/…' && e.status === 410);
    assert.ok(refused.some((e) => e.client === 'dut1' && /expired/.test(e.reason ?? '')), JSON.stringify(refused));
  } finally {
    await updateFarm(root, (raw) => { delete raw.boot; });
    fs.writeFileSync(filesConf, original);
    await servers!.nginx.reload();
  }
});
