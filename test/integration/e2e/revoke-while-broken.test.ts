import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { which } from '../../support/farm';
import { FarmServers, startFarmServers } from './rig';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { issueClient } from '../../../src/core/pki';
import { buildClientImage } from '../../../src/core/ipxe/build';
import { locateIpxeSource, type IpxeSource } from '../../../src/core/ipxe/source';
import { SCRIPT_MARKERS } from '../../../src/core/ipxe/script';
import { TLS_REFUSAL_REASONS } from '../../../src/core/nginx/generate';
import { clientLaunchOptions } from '../../../src/core/qemu/client';
import { bootHeadless } from '../../../src/core/qemu/launch';
import { ensureStockIpxe, stockUnavailable } from '../../../src/core/stock/debianPackage';
import { buildStockImage, type StockImageResult } from '../../../src/core/stock/image';
import { findOvmf } from '../../../src/core/stock/ovmf';
import { openFarm } from '../../../src/core/farm/handle';

// Issue 13, finding 1, end to end: the farm file has an unrelated mistake (a profile whose kernel is not there yet),
// the client is revoked with the CLI while nginx and the boot service run, nobody reloads anything by hand, and the
// client's own image (real iPXE make, QEMU TCG, restricted networking) is refused: its console says it was revoked.
// Without an iPXE source tree (a fresh machine) the client's image is Debian's stock EFI iPXE on a stick instead, so the
// flow is never untested.

const BOOT_TIMEOUT = 180_000;
const SCRIPT = { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } as const;
const repo = path.resolve(__dirname, '..', '..', '..', '..');
let skipReason = '';
let root = '';
let cli = '';
let source: IpxeSource | undefined;
let stick: StockImageResult | undefined;
let path_ = '';
let servers: FarmServers | undefined;
const serviceLog: string[] = [];

before(async () => {
  for (const tool of ['qemu-system-x86_64', 'socat', 'nginx']) {
    if (!skipReason && !which(tool) && !fs.existsSync(`/usr/sbin/${tool}`)) skipReason = `SKIPPED LOUDLY: ${tool} is not installed, so a revoked client's boot cannot be checked here`;
  }
  if (skipReason) return;
  root = await farmWithPki('revoke2e');
  try {
    source = await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false });
    for (const tool of ['make', 'gcc', 'xorriso']) if (!which(tool)) { source = undefined; throw new Error(`${tool} is not installed`); }
    path_ = 'built BIOS ISO';
  } catch (err) {
    const why = stockUnavailable() ?? (findOvmf() ? undefined : 'ovmf is not installed (apt-get install ovmf)');
    if (why) {
      skipReason = `SKIPPED LOUDLY: no iPXE source tree (${(err as Error).message}) and no stock EFI path (${why})`;
      return;
    }
    await ensureStockIpxe();
    path_ = `stock EFI stick (no iPXE source tree: ${(err as Error).message.replace(/\.$/, '')})`;
  }
  const esbuild = await import('esbuild');
  cli = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-cli-')), 'cli.js');
  await esbuild.build({ entryPoints: [path.join(repo, 'src', 'cli', 'main.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], outfile: cli, external: ['vscode'], logLevel: 'error' });
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'not booted');
  await issueClient(await openFarm(root), 'dut-late');
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = { linux: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0', verify: false, extra: [] } };
    raw.clients = { 'dut-late': { profile: 'linux', macs: [], vars: {} }, dut1: { profile: 'linux', macs: [], vars: {} } };
  });
  if (source) {
    const r = await buildClientImage(await openFarm(root), 'dut-late', { target: 'iso', source, script: SCRIPT });
    serviceLog.push(`built dut-late in ${(r.durationMs / 1000).toFixed(1)} s`);
  } else {
    stick = await buildStockImage(await openFarm(root), 'dut-late', { script: SCRIPT });
  }
  servers = await startFarmServers(root, (l) => serviceLog.push(l));
  // The unrelated mistake, written by hand while everything runs: a profile whose kernel comes later.
  await updateFarm(root, (raw) => { (raw.profiles as Record<string, unknown>).next = { kernel: 'vmlinuz-6.12', initrds: [], cmdline: '', verify: false, extra: [] }; });
  await servers.service.reloader.check();
}, { timeout: 30 * 60_000 });

after(async () => {
  await servers?.stop();
});

test('finding 1 e2e: a client revoked while the farm file has an unrelated error is refused at its console, with the reason', { timeout: BOOT_TIMEOUT + 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const rv = spawnSync(process.execPath, [cli, 'revoke', 'dut-late', '--farm', root], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(rv.status, 0, rv.stderr);
  t.diagnostic(`revoke: ${rv.stdout.trim()} ${rv.stderr.trim()}`);
  t.diagnostic(`image: ${path_}`);
  const opts = await clientLaunchOptions(await openFarm(root), 'dut-late', stick ? { efi: true, image: stick.image, efiVars: stick.vars } : {});
  assert.equal(opts.spec.network.kind, 'restricted', 'tests keep QEMU on restricted networking');
  const r = await bootHeadless({ ...opts, headless: { timeoutMs: BOOT_TIMEOUT } });
  const tail = `\n--- console tail ---\n${r.output.slice(-2500)}\n--- service ---\n${serviceLog.slice(-10).join('\n')}`;
  assert.equal(r.reason, 'exited', `the image powers off after its one attempt${tail}`);
  const lines = r.output.split('\n').map((l) => l.trim());
  const headline = lines.indexOf(SCRIPT_MARKERS.refused);
  assert.ok(headline > 0, `the farm's refusal is on the console${tail}`);
  assert.equal(lines[headline + 1], TLS_REFUSAL_REASONS.find(([k]) => k === 'FAILED:certificate revoked')![1], tail);
  assert.ok(!lines.some((l) => /\/vmlinuz\.\.\./.test(l)), `no kernel was fetched: the boot script was not served${tail}`);
  assert.match(servers!.accessLog(), /"GET \/boot\.ipxe" 400 .*verify=FAILED:certificate revoked/, 'nginx refused it with the new CRL, reloaded by `revoke`');
  t.diagnostic(`console:\n${lines.slice(Math.max(0, headline - 3), headline + 2).join('\n')}`);
});
