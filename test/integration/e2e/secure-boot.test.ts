import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { ensureTestKernel, LINUX_MARKER_RE } from '../../support/kernel';
import { FarmServers, missingTools, startFarmServers } from './rig';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { pkiPaths } from '../../../src/core/pki/paths';
import { issueClient, revoke, signFile } from '../../../src/core/pki';
import { setSecret } from '../../../src/core/secrets/store';
import { readLastBoots } from '../../../src/core/boot/events';
import { buildClientImage } from '../../../src/core/ipxe/build';
import { locateIpxeSource, type IpxeSource } from '../../../src/core/ipxe/source';
import { decodeIpxeError } from '../../../src/core/ipxe/errors';
import { clientLaunchOptions } from '../../../src/core/qemu/client';
import { bootHeadless, QemuResult } from '../../../src/core/qemu/launch';
import { formatStages } from '../../../src/core/qemu/stages';
import { openFarm } from '../../../src/core/farm/handle';

// The whole secure chain with real parts: images from a real iPXE make, the product's nginx config served by a real
// local nginx on 127.0.0.1, the boot service on its unix socket, QEMU (TCG) in restricted user networking, Debian's
// kernel and a busybox initramfs signed by the farm's code-signing certificate and checked by imgverify. Then the
// refusals, each read back from the serial console with its iPXE error code decoded.

const TOKEN1 = 'tok1-Hq7vX2pLm9';
const TOKEN2 = 'tok2-Rz4kW8nBc1';
const BOOT_TIMEOUT = 180_000;
let skipReason = '';
let root = '';
let source: IpxeSource | undefined;
let servers: FarmServers | undefined;
const serviceLog: string[] = [];

/** A client certificate from another CA, under this farm's client paths, so the image trusts our CA but nginx must not trust it. */
async function plantForeignClient(name: string): Promise<void> {
  const other = await farmWithPki('otherfarm');
  await issueClient(await openFarm(other), name);
  const from = pkiPaths(farmLayout(other));
  const to = pkiPaths(farmLayout(root));
  fs.mkdirSync(path.dirname(to.clientCert(name)), { recursive: true });
  fs.mkdirSync(path.dirname(to.clientKey(name)), { recursive: true, mode: 0o700 });
  fs.copyFileSync(from.clientCert(name), to.clientCert(name));
  fs.copyFileSync(from.clientKey(name), to.clientKey(name));
  fs.chmodSync(to.clientKey(name), 0o600);
}

// Every image powers off after one failed attempt, so a refused boot ends by itself instead of retrying.
const SCRIPT = { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } as const;

before(async () => {
  skipReason = missingTools(['qemu-system-x86_64', 'socat', 'nginx', 'make', 'gcc', 'xorriso']) ?? '';
  if (skipReason) return;
  root = await farmWithPki('e2e');
  try {
    source = await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false });
  } catch (err) {
    skipReason = `SKIPPED LOUDLY: no iPXE source tree (set IPXE_SRC, or run \`ipxe-farm ipxe source --fetch\`): the built image was NOT booted; the stock EFI path (e2e/stock-efi.test.ts: mTLS boot to Linux, pinned hashes, CLI \`qemu --headless\`, refusal) and the stock-image demo still ran — ${(err as Error).message}`;
    return;
  }
  const layout = farmLayout(root);
  const kernel = await ensureTestKernel();
  fs.copyFileSync(kernel.kernel, path.join(layout.files, 'vmlinuz'));
  fs.copyFileSync(kernel.initrd, path.join(layout.files, 'initrd.gz'));
  // The tampered kernel: signed as it was, then one byte changed, as an attacker on the plain-HTTP path would.
  fs.copyFileSync(kernel.kernel, path.join(layout.files, 'vmlinuz-tampered'));
  for (const f of ['vmlinuz', 'initrd.gz', 'vmlinuz-tampered']) await signFile(await openFarm(root), path.join(layout.files, f));
  const tampered = fs.readFileSync(path.join(layout.files, 'vmlinuz-tampered'));
  tampered[tampered.length - 100] = tampered[tampered.length - 100]! ^ 0xff;
  fs.writeFileSync(path.join(layout.files, 'vmlinuz-tampered'), tampered);

  await setSecret(root, 'token1', TOKEN1);
  await setSecret(root, 'token2', TOKEN2);
  for (const c of ['dut-revoked', 'dut-wrongname']) await issueClient(await openFarm(root), c);
  await plantForeignClient('dut-foreign');
  await updateFarm(root, (raw) => {
    // The address the images use: QEMU forwards 10.0.2.100 to 127.0.0.1 (the server certificate carries it).
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = {
      linux: { kernel: 'vmlinuz', initrds: ['initrd.gz'], cmdline: 'console=ttyS0 quiet farm.token={{secret.token1}} host={{client.name}}', verify: true, extra: [] },
      tampered: { kernel: 'vmlinuz-tampered', initrds: ['initrd.gz'], cmdline: 'console=ttyS0 quiet farm.token={{secret.token2}} host={{client.name}}', verify: true, extra: [] },
    };
    raw.clients = {
      dut1: { profile: 'linux', macs: ['52:54:00:00:00:01'], vars: {} },
      'dut-revoked': { profile: 'linux', macs: [], vars: {} },
      'dut-foreign': { profile: 'linux', macs: [], vars: {} },
      'dut-wrongname': { profile: 'linux', macs: [], vars: {} },
    };
  });

  // One tree, builds serialized by its lock: at most one clean build, then ~4 s per client (EMBED/CERT/PRIVKEY only).
  for (const c of ['dut1', 'dut-revoked', 'dut-foreign']) {
    const r = await buildClientImage(await openFarm(root), c, { target: 'iso', source, script: SCRIPT });
    serviceLog.push(`built ${c} in ${(r.durationMs / 1000).toFixed(1)} s`);
  }
  // An image that asks for an address the server certificate does not carry (10.0.2.101 is forwarded to the same nginx).
  await updateFarm(root, (raw) => { (raw.server as Record<string, unknown>).address = '10.0.2.101'; });
  await buildClientImage(await openFarm(root), 'dut-wrongname', { target: 'iso', source, script: SCRIPT });
  await updateFarm(root, (raw) => { (raw.server as Record<string, unknown>).address = '10.0.2.100'; });

  await revoke(root, 'dut-revoked', { reason: 'keyCompromise' });

  servers = await startFarmServers(root, (l) => serviceLog.push(l));
}, { timeout: 30 * 60_000 });

after(async () => {
  await servers?.stop();
});

async function boot(client: string, extraForward?: string): Promise<QemuResult> {
  const opts = await clientLaunchOptions(await openFarm(root), client);
  const net = opts.spec.network;
  assert.equal(net.kind, 'restricted', 'tests keep QEMU on restricted networking');
  if (extraForward && net.kind === 'restricted') {
    // A second guest address for the same nginx ports.
    opts.spec.network = { ...net, forwards: [...net.forwards, ...net.forwards.map((f) => ({ ...f, address: extraForward }))] };
  }
  return bootHeadless({
    ...opts,
    redact: [TOKEN1, TOKEN2],
    headless: { timeoutMs: BOOT_TIMEOUT, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 1500 },
  });
}

function explainFailure(r: QemuResult): string {
  return `${r.reason} after ${(r.elapsedMs / 1000).toFixed(1)} s; console tail:\n${r.output.slice(-2500)}\nservice:\n${serviceLog.slice(-10).join('\n')}`;
}

test('dut1 boots over mutual TLS: its own script, signed kernel + initrd pass imgverify, Linux prints its secret', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const r = await boot('dut1');
  t.diagnostic(`dut1 stages: ${formatStages(r.stages)}`);
  assert.equal(r.reason, 'marker', explainFailure(r));
  const cmdline = r.marker![1]!;
  assert.match(cmdline, new RegExp(`farm\\.token=${TOKEN1}\\b`));
  assert.match(cmdline, /host=dut1\b/);
  assert.doesNotMatch(cmdline, new RegExp(TOKEN2), 'dut1 never sees another client\'s secret');
  assert.deepEqual(r.errors, [], explainFailure(r));
  const urls = r.downloads.map((d) => d.url);
  assert.equal(urls[0], `https://10.0.2.100:${(await loadFarm(root)).farm.server.httpsPort}/boot.ipxe`);
  for (const f of ['vmlinuz', 'vmlinuz.sig', 'initrd.gz', 'initrd.gz.sig']) assert.ok(urls.some((u) => u.endsWith(`/${f}`)), `${f} was downloaded: ${urls.join(' ')}`);
  const s = r.stages;
  assert.ok(s.ipxeUp! < s.dhcpOk! && s.dhcpOk! < s.scriptFetched! && s.scriptFetched! < s.imagesLoaded! && s.imagesLoaded! < s.linuxMarker!, JSON.stringify(s));
  const last = (await readLastBoots(root)).dut1;
  assert.equal(last?.status, 200, 'the boot service recorded dut1\'s boot');
  assert.equal(last?.profile, 'linux');
  const log = fs.readFileSync(r.logFile, 'utf8');
  assert.doesNotMatch(log, new RegExp(TOKEN1), 'the kept serial log has the secret redacted');
  assert.match(log, /IPXE-FARM-LINUX-UP cmdline: .*farm\.token=«redacted»/);
});

const accessLog = () => servers!.accessLog();

function assertRefused(r: QemuResult, codes: string[], meaning: RegExp): void {
  assert.notEqual(r.reason, 'marker', `the machine must not boot Linux:\n${explainFailure(r)}`);
  assert.equal(r.stages.linuxMarker, undefined);
  const seen = r.errors.map((e) => e.code);
  assert.ok(seen.some((c) => codes.includes(c)), `expected iPXE error ${codes.join(' or ')}, saw [${seen.join(', ')}]\n${explainFailure(r)}`);
  const err = r.errors.find((e) => codes.includes(e.code))!;
  const info = decodeIpxeError(err.code);
  assert.match(`${info.message} ${info.cause ?? ''} ${info.fix ?? ''}`, meaning, `decoded ${err.code}: ${JSON.stringify(info)}`);
  // The reason is in the kept serial log, not only in memory: the line iPXE printed, then what the code means.
  const log = fs.readFileSync(r.logFile, 'utf8');
  assert.ok(log.includes(err.line), `the log has the whole error line "${err.line}"`);
  assert.ok(log.includes(`[ipxe-farm] ${err.code}: ${info.message}.`), `the log explains ${err.code}:\n${log.slice(-1500)}`);
}

test('a revoked client is refused by nginx (CRL) and never gets a script', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const r = await boot('dut-revoked');
  t.diagnostic(`dut-revoked: ${r.errors.map((e) => `${e.code} "${e.line}"`).join('; ')}`);
  assertRefused(r, ['1d0c6439'], /revoked/i);
  assert.equal(r.stages.scriptFetched, undefined);
  // 1d0c6439 is "HTTP 4xx": nginx's access log says which check refused it.
  assert.match(accessLog(), /verify=FAILED:certificate revoked/);
  assert.equal((await readLastBoots(root))['dut-revoked'], undefined, 'the boot service never saw it');
});

test('a client certificate from another CA is refused', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const r = await boot('dut-foreign');
  t.diagnostic(`dut-foreign: ${r.errors.map((e) => `${e.code} "${e.line}"`).join('; ')}`);
  assertRefused(r, ['1d0c6439'], /another CA/i);
  assert.equal(r.stages.scriptFetched, undefined);
  assert.match(accessLog(), /verify=FAILED:unable to (get local issuer certificate|verify the first certificate)/);
  assert.equal((await readLastBoots(root))['dut-foreign'], undefined, 'the boot service never saw it');
});

test('a tampered kernel fails imgverify and is not booted', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  // dut1's own image, now served the profile whose kernel was changed after signing (the boot service reloads the farm).
  await updateFarm(root, (raw) => { ((raw.clients as Record<string, Record<string, unknown>>).dut1!).profile = 'tampered'; });
  await new Promise((r) => setTimeout(r, 1500));
  let r: QemuResult;
  try {
    r = await boot('dut1');
  } finally {
    await updateFarm(root, (raw) => { ((raw.clients as Record<string, Record<string, unknown>>).dut1!).profile = 'linux'; });
  }
  t.diagnostic(`dut1 with the tampered kernel: ${r.errors.map((e) => `${e.code} "${e.line}"`).join('; ')}`);
  assert.equal((await readLastBoots(root)).dut1?.profile, 'tampered');
  assert.ok(r.stages.scriptFetched !== undefined, `dut1 got its script over mTLS:\n${explainFailure(r)}`);
  assertRefused(r, ['0227e13c'], /tampered/i);
  assert.match(r.errors[0]!.line, /Could not verify/);
  assert.doesNotMatch(r.output, new RegExp(TOKEN2), 'the kernel that would have received the secret never ran');
});

test('a server certificate without the address the client uses is refused by iPXE', { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const r = await boot('dut-wrongname', '10.0.2.101');
  t.diagnostic(`dut-wrongname: ${r.errors.map((e) => `${e.code} "${e.line}"`).join('; ')}`);
  assertRefused(r, ['0216ea3c'], /does not name the address/i);
  assert.match(r.errors.find((e) => e.code === '0216ea3c')!.line, /https:\/\/10\.0\.2\.101:/);
});

test('the CLI: `ipxe-farm qemu CLIENT --headless` boots dut1 to its marker (exit 0) and explains a refused client (exit 1)', { timeout: 2 * BOOT_TIMEOUT }, async (t) => {
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
  const ok = await ipxeFarm(['qemu', 'dut1', '--headless', '--timeout', String(BOOT_TIMEOUT / 1000), '--until', 'IPXE-FARM-LINUX-UP cmdline: .*host=dut1']);
  assert.equal(ok.status, 0, `${ok.stderr}\n${ok.stdout.slice(-1500)}`);
  assert.match(ok.stdout, /IPXE-FARM-LINUX-UP cmdline: .*host=dut1/);
  assert.match(ok.stderr, /QEMU reached the marker after [\d.]+ s\.\nBoot stages: iPXE up [\d.]+ s · DHCP ok/);
  const refused = await ipxeFarm(['qemu', 'dut-revoked', '--headless', '--timeout', String(BOOT_TIMEOUT / 1000)]);
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /iPXE error 1d0c6439: HTTP 4xx Client Error[\s\S]*Likely cause: .*revoked/);
  assert.match(refused.stderr, /Serial log: .*\.serial\.log/);
});

test('EFI: dut1\'s own EFI build boots under OVMF over mutual TLS with imgverify, Linux prints its secret', { timeout: 30 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const built = await buildClientImage(await openFarm(root), 'dut1', { target: 'efi', source, script: SCRIPT });
  t.diagnostic(`dut1 EFI image built in ${(built.durationMs / 1000).toFixed(1)} s`);
  const opts = await clientLaunchOptions(await openFarm(root), 'dut1', { efi: true });
  assert.equal(opts.spec.firmware, 'efi');
  assert.equal(opts.spec.medium.kind === 'disk' && path.basename(opts.spec.medium.path), 'ipxe-efi.img');
  const r = await bootHeadless({ ...opts, redact: [TOKEN1, TOKEN2], headless: { timeoutMs: BOOT_TIMEOUT, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 3000 } });
  t.diagnostic(`dut1 EFI stages: ${formatStages(r.stages)}`);
  assert.equal(r.reason, 'marker', explainFailure(r));
  assert.match(r.marker![1]!, new RegExp(`farm\\.token=${TOKEN1}\\b`));
  assert.deepEqual(r.errors, [], explainFailure(r));
  assert.ok(r.downloads.some((d) => d.url.endsWith('/vmlinuz.sig')), 'imgverify fetched the kernel signature');
});
