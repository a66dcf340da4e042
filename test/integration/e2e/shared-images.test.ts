import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { ensureTestKernel, LINUX_MARKER_RE } from '../../support/kernel';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { issueClient, renew } from '../../../src/core/pki';
import { pkiPaths } from '../../../src/core/pki/paths';
import { setSecret } from '../../../src/core/secrets/store';
import { readLastBoots } from '../../../src/core/boot/events';
import { imageState } from '../../../src/core/ipxe/build';
import { assembleClientImage } from '../../../src/core/ipxe/assemble';
import { sharedBaseDir } from '../../../src/core/ipxe/shared';
import { locateIpxeSource, type IpxeSource } from '../../../src/core/ipxe/source';
import { findOvmf } from '../../../src/core/stock/ovmf';
import { clientLaunchOptions } from '../../../src/core/qemu/client';
import { bootHeadless, QemuResult } from '../../../src/core/qemu/launch';
import { formatStages } from '../../../src/core/qemu/stages';
import { pemToDer } from '../../../src/core/stock/image';
import { FarmServers, missingTools, startFarmServers } from './rig';
import { openFarm } from '../../../src/core/farm/handle';

// "A new board's image in a second": iPXE is built once per farm and firmware (farm CA as TRUST, the shared script,
// no key), and each client's image is that binary plus its identity script. A BIOS ISO (ISOLINUX: the shared
// ipxe.lkrn with the identity as INITRD) and an EFI stick (identity as autoexec.ipxe) each boot Linux over mTLS.

const TOKEN = 'tokSh-4r3dQ9Lp2';
const BOOT_TIMEOUT = 300_000;
const SCRIPT = { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } as const;
let skipReason = '';
let root = '';
let source: IpxeSource | undefined;
let servers: FarmServers | undefined;
const serviceLog: string[] = [];

before(async () => {
  skipReason = missingTools(['qemu-system-x86_64', 'socat', 'nginx', 'mformat', 'mcopy', 'xorriso', 'make', 'gcc']) ?? (findOvmf() ? '' : 'SKIPPED LOUDLY: ovmf is not installed');
  if (skipReason) return;
  root = await farmWithPki('shared');
  try {
    source = await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false });
  } catch (err) {
    skipReason = `SKIPPED LOUDLY: no iPXE source tree (set IPXE_SRC): ${(err as Error).message}`;
    return;
  }
  const layout = farmLayout(root);
  const kernel = await ensureTestKernel();
  fs.copyFileSync(kernel.kernel, path.join(layout.files, 'vmlinuz'));
  fs.copyFileSync(kernel.initrd, path.join(layout.files, 'initrd.gz'));
  await setSecret(root, 'token', TOKEN);
  await issueClient(await openFarm(root), 'dut3');
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = { linux: { kernel: 'vmlinuz', initrds: ['initrd.gz'], cmdline: 'console=ttyS0 quiet farm.token={{secret.token}} host={{client.name}}', verify: false, extra: ['imgfree boot.ipxe ||'] } };
    raw.clients = {
      dut1: { arch: 'x86_64-bios', profile: 'linux', macs: ['52:54:00:00:00:b1'], vars: {} },
      dut2: { arch: 'x86_64-efi', profile: 'linux', macs: ['52:54:00:00:00:b2'], vars: {} },
      dut3: { arch: 'x86_64-bios', profile: 'linux', macs: ['52:54:00:00:00:b3'], vars: {} },
    };
  });
  servers = await startFarmServers(root, (l) => serviceLog.push(l));
}, { timeout: 10 * 60_000 });

after(async () => {
  await servers?.stop();
});

function explain(r: QemuResult): string {
  return `${r.reason} after ${(r.elapsedMs / 1000).toFixed(1)} s; console tail:\n${r.output.slice(-3000)}\nservice:\n${serviceLog.slice(-10).join('\n')}`;
}

test('the first client builds the shared binary; the next reuses it; keys stay out of the shared build', { timeout: 40 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  const a = await assembleClientImage(await openFarm(root), 'dut1', { source, script: SCRIPT });
  const b = await assembleClientImage(await openFarm(root), 'dut3', { source, script: SCRIPT });
  const e = await assembleClientImage(await openFarm(root), 'dut2', { source, script: SCRIPT });
  t.diagnostic(`dut1 (lkrn built: ${!a.baseReused}) ${(a.durationMs / 1000).toFixed(2)} s · dut3 ${(b.durationMs / 1000).toFixed(2)} s · dut2 efi ${(e.durationMs / 1000).toFixed(2)} s`);
  assert.equal(b.baseReused, true, 'the second BIOS client reuses the shared ipxe.lkrn');
  assert.equal(a.target, 'iso');
  assert.equal(e.target, 'efi');
  for (const f of [...a.files, ...b.files, ...e.files]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  const layout = farmLayout(root);
  const key1 = fs.readFileSync(pkiPaths(layout).clientKey('dut1'), 'utf8');
  const keyHex = [...pemToDer(key1).subarray(0, 40)].map((x) => x.toString(16).padStart(2, '0')).join(':');
  // The key is in dut1's image (as its identity), never in the shared binaries or the iPXE tree's outputs.
  assert.ok(fs.readFileSync(a.files[0]!).includes(Buffer.from(keyHex)));
  for (const kind of ['lkrn', 'efi'] as const) {
    const dir = sharedBaseDir(layout, 'x86_64', kind);
    for (const f of fs.readdirSync(dir)) assert.ok(!fs.readFileSync(path.join(dir, f)).includes(Buffer.from(keyHex)), `${kind}/${f}`);
  }
  for (const bin of ['bin', 'bin-x86_64-efi']) {
    const d = path.join(source!.srcDir, bin);
    if (fs.existsSync(d)) assert.ok(!fs.existsSync(path.join(d, '.private_key.der')), `${bin}/.private_key.der`);
  }
  assert.equal((await imageState(await openFarm(root), 'dut1')).state, 'built');
  // Stale tracking: a new certificate for dut3 makes its image stale, not the others'.
  await renew(await openFarm(root), 'dut3');
  const s3 = await imageState(await openFarm(root), 'dut3');
  assert.equal(s3.state, 'stale');
  assert.match(s3.reasons.join(' '), /client certificate changed/);
  assert.equal((await imageState(await openFarm(root), 'dut2', 'efi')).state, 'built');
});

for (const [client, what] of [['dut1', 'BIOS ISO (shared ipxe.lkrn + identity as ISOLINUX INITRD)'], ['dut2', 'EFI stick (shared ipxe.efi + identity as autoexec.ipxe)']] as const) {
  test(`${what} boots Linux over mutual TLS as ${client}`, { timeout: BOOT_TIMEOUT + 30_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const opts = await clientLaunchOptions(await openFarm(root), client);
    assert.equal(opts.spec.network.kind, 'restricted');
    const r = await bootHeadless({ ...opts, redact: [TOKEN], linuxMarker: LINUX_MARKER_RE, headless: { timeoutMs: BOOT_TIMEOUT, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 3000 } });
    t.diagnostic(`${client} stages: ${formatStages(r.stages)}`);
    assert.equal(r.reason, 'marker', explain(r));
    assert.match(r.output, new RegExp(`iPXE Farm: client ${client}, boot server`));
    assert.match(r.marker![1]!, new RegExp(`farm\\.token=${TOKEN}\\b.*host=${client}\\b`));
    assert.equal((await readLastBoots(root))[client]?.status, 200);
  });
}
