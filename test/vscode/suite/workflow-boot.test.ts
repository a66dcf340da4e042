// The whole path from the editor, with real parts: Build Image (real make of iPXE v2.0.0 with the client's
// certificate and key and the farm CA), Start nginx (local, on 127.0.0.1) and the boot service, then the play button
// on the client: QEMU boots the image under restricted networking, iPXE fetches its script over mutual TLS, and the
// Clients tree shows the boot (boot events, through the file watcher).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BuildResult } from '../../../src/core/ipxe/build';
import { MANIFEST_FILE } from '../../../src/core/ipxe/manifest';
import { MANIFEST_FILE as TREE_MANIFEST_FILE } from '../../../src/vscode/model/imageStates';
import { which } from '../../../src/core/process/light';
import { stockUnavailable } from '../../../src/core/stock/debianPackage';
import type { StockImageResult } from '../../../src/core/stock/image';
import { findOvmf } from '../../../src/core/stock/ovmf';
import { screenshot } from '../screenshot';
import { api, eventually, farmRoot, rows } from './support';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)); });
  });
}

/** An iPXE tree: $IPXE_SRC, or the per-user cache of v2.0.0 in the real home (the harness gives VS Code a temp HOME). */
function ipxeTree(): string | undefined {
  const candidates = [process.env.IPXE_SRC, path.join(os.userInfo().homedir, '.cache', 'ipxe-farm', 'src', 'ipxe-v2.0.0')];
  return candidates.find((d): d is string => !!d && fs.existsSync(path.join(d, 'src', 'Makefile')));
}

interface Launched { pty: { errors: Array<{ code: string }>; output: string } }

suite('Build, serve and boot from the editor', function () {
  let root: string;
  let skip: string | undefined;
  /** Only the build tests need an iPXE tree; the stock stick (last test) boots without one. */
  let buildSkip: string | undefined;
  let farmText = '';

  suiteSetup(async function () {
    this.timeout(120_000);
    for (const tool of ['make', 'gcc', 'qemu-system-x86_64', 'nginx', 'socat', 'xorriso']) {
      if (!which(tool) && !fs.existsSync(`/usr/sbin/${tool}`)) { skip = `SKIPPED LOUDLY: ${tool} is not installed: the editor's build-and-boot path was NOT tested`; return; }
    }
    const tree = ipxeTree();
    if (!tree) buildSkip = 'SKIPPED LOUDLY: no iPXE source tree (set IPXE_SRC, or run `ipxe-farm ipxe source --fetch`): the editor\'s Build Image was NOT tested; its stock EFI stick + ▶ boot (the last test of this suite) still ran';
    root = await farmRoot();
    if (!fs.existsSync(path.join(root, 'pki', 'issued', 'clients', 'dut1.crt'))) { skip = 'SKIPPED: the seed-workflow suite did not issue dut1'; return; }
    const file = path.join(root, 'ipxe-farm.json');
    farmText = fs.readFileSync(file, 'utf8');
    const farm = JSON.parse(farmText);
    // The guest reaches the farm at 10.0.2.100, which QEMU relays to 127.0.0.1; the server certificate must name it.
    farm.server = { address: '10.0.2.100', names: ['127.0.0.1'], httpsPort: await freePort(), httpPort: await freePort() };
    farm.nginx.runtime = 'local';
    farm.ipxe = { ...farm.ipxe, ...(tree ? { source: tree } : {}), targets: ['iso'] };
    farm.qemu = { ...farm.qemu, accel: 'tcg' };
    fs.writeFileSync(file, `${JSON.stringify(farm, null, 2)}\n`);
    await (await api()).state.refresh();
    await vscode.commands.executeCommand('ipxeFarm.issueServer');
    await vscode.commands.executeCommand('ipxeFarm.generateNginxConfig', { force: true });
    // 10.0.2.100 exists only through QEMU's guestfwd: the generated nginx must keep the farm on loopback.
    for (const rel of (fs.readdirSync(path.join(root, 'nginx'), { recursive: true }) as string[]).filter((f) => f.endsWith('.conf'))) {
      for (const m of fs.readFileSync(path.join(root, 'nginx', rel), 'utf8').matchAll(/^\s*listen\s+([^;]+);/gm)) {
        assert.ok(m[1]!.startsWith('127.0.0.1:'), `${rel}: listen ${m[1]} would expose the test farm beyond loopback`);
      }
    }
    // The boot service refuses a profile whose files are missing (the linux profile: files/vmlinuz + initrd.img).
    for (const f of ['vmlinuz', 'initrd.img']) if (!fs.existsSync(path.join(root, 'files', f))) fs.writeFileSync(path.join(root, 'files', f), 'not a kernel\n');
    for (let d = root; d.startsWith('/tmp/'); d = path.dirname(d)) fs.chmodSync(d, fs.statSync(d).mode | 0o011);
  });

  suiteTeardown(async function () {
    this.timeout(60_000);
    if (skip) return;
    await vscode.commands.executeCommand('ipxeFarm.stopQemu', 'dut1');
    await vscode.commands.executeCommand('ipxeFarm.stopBootService');
    await vscode.commands.executeCommand('ipxeFarm.stopNginx');
    fs.writeFileSync(path.join(root, 'ipxe-farm.json'), farmText);
  });

  test('Build Image makes dut1\'s ISO (real make) and the Clients tree marks the image built', async function () {
    if (skip || buildSkip) { console.log(`    ${skip ?? buildSkip}`); this.skip(); }
    this.timeout(900_000);
    const a = await api();
    const dut1 = await eventually('the dut1 row', async () => (await rows(a.views.clients)).find((r) => r.label === 'dut1'));
    const r = await vscode.commands.executeCommand<BuildResult>('ipxeFarm.buildImage', dut1.node, undefined, { target: 'iso' });
    assert.ok(r, 'Build Image answers with the build result');
    const iso = path.join(root, 'ipxe', 'dut1', 'out', 'ipxe.iso');
    assert.deepEqual(r.files, [iso]);
    assert.equal(fs.statSync(iso).mode & 0o777, 0o600, 'the image holds the client key: 0600');
    console.log(`    build took ${(r.durationMs / 1000).toFixed(1)} s`);
    await eventually('dut1 image built in the tree', async () => (await rows(a.views.clients)).find((x) => x.label === 'dut1' && x.contextValue === 'client.cert.image-built'));
  });

  test('with nginx and the boot service started, the play button boots dut1 and the tree shows its boot', async function () {
    if (skip || buildSkip) { console.log(`    ${skip ?? buildSkip}`); this.skip(); }
    this.timeout(600_000);
    const a = await api();
    assert.equal((await vscode.commands.executeCommand<{ state: string }>('ipxeFarm.startNginx'))?.state, 'running');
    assert.ok(await vscode.commands.executeCommand('ipxeFarm.startBootService'));
    const dut1 = (await rows(a.views.clients)).find((r) => r.label === 'dut1')!;
    const launched = await vscode.commands.executeCommand<Launched>('ipxeFarm.launchQemu', dut1.node);
    assert.ok(launched, 'QEMU was launched with the built image');
    // The boot events (written by the boot service) reach the tree through the file watcher: wait for this boot's
    // /boot.ipxe, not an earlier request of another suite.
    const lastBoot = await eventually('dut1\'s /boot.ipxe as its last boot, in the Clients tree', async () => {
      const row = (await rows(a.views.clients)).find((x) => x.label === 'dut1' && /booted/.test(String(x.description)));
      const d = row && (await rows(a.views.clients, row.node)).find((x) => x.label === 'Last boot');
      return d && /→ 200 \/boot\.ipxe/.test(String(d.description)) ? d : undefined;
    }, 300_000).catch((e: Error) => { throw new Error(`${e.message}; console tail: ${JSON.stringify(launched.pty.output.slice(-600))}`); });
    assert.ok(lastBoot);
    await eventually('iPXE to say the mutual-TLS fetch succeeded', () => /https:\/\/10\.0\.2\.100:\d+\/boot\.ipxe\.\.\. ok/.test(launched.pty.output), 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    await vscode.commands.executeCommand('workbench.action.terminal.focus');
    await screenshot('boot-from-editor');
  });

  // After the boot: a renewal changes the certificate the image embeds, so core's hash-based imageState calls it stale
  // (reason included), and the tree follows through the PKI watcher without a rebuild.
  test('renewing dut1\'s certificate turns its image stale in the Clients tree, with core\'s reason', async function () {
    if (skip || buildSkip) { console.log(`    ${skip ?? buildSkip}`); this.skip(); }
    this.timeout(120_000);
    const a = await api();
    const before = (await rows(a.views.clients)).find((x) => x.label === 'dut1')!;
    assert.equal(before.contextValue, 'client.cert.image-built', 'built before the renewal');
    assert.equal(TREE_MANIFEST_FILE, MANIFEST_FILE, 'the tree stats the manifest core writes');
    const renewed = await vscode.commands.executeCommand<{ serial: string }>('ipxeFarm.renew', 'dut1');
    assert.ok(renewed?.serial, 'Renew answers with the new record');
    const stale = await eventually('dut1 image stale in the tree', async () => (await rows(a.views.clients)).find((x) => x.label === 'dut1' && x.contextValue === 'client.cert.image-stale'), 60_000);
    assert.match(String(stale.description), /image stale/);
    const image = (await rows(a.views.clients, stale.node)).find((x) => x.label === 'Image')!;
    assert.match(String(image.description), /^iso stale · The client certificate changed \(serial [0-9A-F]+ → [0-9A-F]+\)/i);
    assert.equal(image.contextValue, 'clientDetail.image-stale');
  });

  // EFI from the editor: the target chosen in Build Image reaches core's build (manifest says efi, the FAT image is
  // written), and the play button then boots that image under OVMF (core's clientLaunchOptions), which starts iPXE.
  test('Build Image with the efi target, then the play button boots it under OVMF', async function () {
    if (skip || buildSkip) { console.log(`    ${skip ?? buildSkip}`); this.skip(); }
    if (!['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd'].some((f) => fs.existsSync(f)) || !which('mformat')) {
      console.log('    SKIPPED LOUDLY: no OVMF firmware or mtools: the editor\'s EFI path was NOT tested');
      this.skip();
    }
    this.timeout(900_000);
    const a = await api();
    const dut1 = (await rows(a.views.clients)).find((x) => x.label === 'dut1')!;
    const r = await vscode.commands.executeCommand<BuildResult>('ipxeFarm.buildImage', dut1.node, undefined, { target: 'efi' });
    assert.ok(r, 'Build Image answers with the build result');
    assert.equal(r.target, 'efi');
    assert.equal(r.record.target, 'efi', 'core recorded an efi build');
    const img = path.join(root, 'ipxe', 'dut1', 'out', 'ipxe-efi.img');
    assert.ok(r.files.includes(img), `the FAT image for OVMF is among ${r.files.join(', ')}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'ipxe', 'dut1', 'out', 'manifest.json'), 'utf8'));
    assert.ok(manifest.images.efi, 'the manifest holds the efi image');
    console.log(`    efi build took ${(r.durationMs / 1000).toFixed(1)} s`);
    const launched = await vscode.commands.executeCommand<Launched & { command: string; firmware: string }>('ipxeFarm.launchQemu', dut1.node);
    assert.ok(launched, 'QEMU was launched');
    assert.equal(launched.firmware, 'efi');
    assert.match(launched.command, /OVMF/, 'the QEMU command line loads the OVMF firmware');
    assert.match(launched.command, /ipxe-efi\.img/, 'and boots the EFI image');
    assert.match(launched.command, /restrict=on/, 'with restricted user networking');
    // iPXE's own banner on the serial console: OVMF found BOOTX64.EFI and ran it.
    await eventually('iPXE to start under OVMF', () => /iPXE \d|iPXE initialising|open source network boot firmware/i.test(launched.pty.output) || undefined, 240_000)
      .catch((e: Error) => { throw new Error(`${e.message}; console tail: ${JSON.stringify(launched.pty.output.slice(-600))}`); });
    await vscode.commands.executeCommand('ipxeFarm.stopQemu', 'dut1');
  });

  // A fresh machine's path from the editor (no iPXE tree, no compiler): Make Stock EFI Stick (Debian's prebuilt iPXE,
  // dut1's identity in autoexec.ipxe, the farm CA in an OVMF variable store), then ▶ boots the newest thing made for
  // dut1, the stick, under OVMF, and iPXE fetches dut1's script over mutual TLS.
  test('Make Stock EFI Stick, then the play button boots it under OVMF and iPXE fetches dut1\'s script over mutual TLS', async function () {
    if (skip) { console.log(`    ${skip}`); this.skip(); }
    const why = stockUnavailable() ?? (findOvmf() && which('mformat') ? undefined : 'SKIPPED LOUDLY: no OVMF firmware or mtools: the editor\'s stock EFI path was NOT tested');
    if (why) { console.log(`    ${why}`); this.skip(); }
    this.timeout(600_000);
    const a = await api();
    const dut1 = (await rows(a.views.clients)).find((x) => x.label === 'dut1')!;
    const stick = await vscode.commands.executeCommand<StockImageResult>('ipxeFarm.stockImage', dut1.node);
    assert.ok(stick, 'Make Stock EFI Stick answers with the stick');
    for (const f of [stick.image, stick.vars]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, `${f} holds the client key or the farm's trust: 0600`);
    if ((await vscode.commands.executeCommand<{ state: string }>('ipxeFarm.nginxStatus'))?.state !== 'running') {
      assert.equal((await vscode.commands.executeCommand<{ state: string }>('ipxeFarm.startNginx'))?.state, 'running');
    }
    await vscode.commands.executeCommand('ipxeFarm.startBootService');
    const launched = await vscode.commands.executeCommand<Launched & { command: string; firmware: string }>('ipxeFarm.launchQemu', dut1.node);
    assert.ok(launched, 'QEMU was launched');
    assert.equal(launched.firmware, 'efi');
    assert.match(launched.command, /stock-efi\.img/, 'the play button boots the stick made last');
    assert.match(launched.command, /restrict=on/);
    await eventually('stock iPXE to say the mutual-TLS fetch of dut1\'s script succeeded', () => /https:\/\/10\.0\.2\.100:\d+\/boot\.ipxe\.\.\. ok/.test(launched.pty.output) || undefined, 400_000)
      .catch((e: Error) => { throw new Error(`${e.message}; console tail: ${JSON.stringify(launched.pty.output.slice(-800))}`); });
    await vscode.commands.executeCommand('ipxeFarm.stopQemu', 'dut1');
  });
});
