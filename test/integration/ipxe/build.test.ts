import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { farmWithPki } from '../../support/pki';
import { which } from '../../support/farm';
import { farmLayout } from '../../../src/core/farm/layout';
import { renew } from '../../../src/core/pki';
import { updateFarm } from '../../../src/core/farm/load';
import { buildClientImage, imageState } from '../../../src/core/ipxe/build';
import { locateIpxeSource, type IpxeSource } from '../../../src/core/ipxe/source';
import { clientOutDir, readManifest } from '../../../src/core/ipxe/manifest';
import { FarmError } from '../../../src/core/errors';
import { openFarm } from '../../../src/core/farm/handle';

// One real make in the suite: the first build in a fresh tree is a clean build (70–110 s on 2 cores); every later
// build here reuses the tree's objects and only recompiles the embedded script, certificate and key (~4 s).

let source: IpxeSource | undefined;
let skipReason = '';
let root = '';

before(async () => {
  for (const tool of ['make', 'gcc', 'openssl', 'xorriso', 'flock']) {
    if (!which(tool)) { skipReason = `SKIPPED LOUDLY: ${tool} is not installed, so no iPXE image can be built here`; return; }
  }
  try {
    root = await farmWithPki('ipxebuild');
    const { loadFarm } = await import('../../../src/core/farm/load');
    source = await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false });
  } catch (err) {
    skipReason = `SKIPPED LOUDLY: no iPXE source tree (set IPXE_SRC, or run \`ipxe-farm ipxe source --fetch\`): no image was compiled; the image a fresh machine can make (Debian's prebuilt EFI iPXE, e2e/stock-efi.test.ts) was still made and booted — ${(err as Error).message}`;
  }
});

test('ISO for dut1: real make, 0600 image in the client folder, manifest, no key left in the tree', { timeout: 20 * 60_000 }, async (t) => {
  if (!source) return t.skip(skipReason);
  const stages = new Set<string>();
  const userHeader = path.join(source.srcDir, 'config', 'local', 'general.h');
  const userBefore = await fsp.readFile(userHeader, 'utf8').catch(() => '');
  const r = await buildClientImage(await openFarm(root), 'dut1', { target: 'iso', source, onProgress: (p) => stages.add(p.stage) });
  t.diagnostic(`dut1 ISO built in ${(r.durationMs / 1000).toFixed(1)} s from iPXE ${source.version} at ${source.dir}`);
  const layout = farmLayout(root);
  const iso = path.join(clientOutDir(layout, 'dut1'), 'ipxe.iso');
  assert.deepEqual(r.files, [iso]);
  const st = await fsp.stat(iso);
  assert.equal(st.mode & 0o777, 0o600, 'the image holds a private key: 0600');
  assert.ok(st.size > 200_000, `an ISO of ${st.size} bytes is too small to be iPXE`);
  assert.equal((await fsp.stat(clientOutDir(layout, 'dut1'))).mode & 0o777, 0o700);
  for (const s of ['lock', 'make', 'package', 'done']) assert.ok(stages.has(s), `progress reported stage ${s}`);
  // The farm's settings live in the named config (CONFIG=ipxefarm); the tree's own config/local headers stay as they were.
  assert.match(await fsp.readFile(path.join(source.srcDir, 'config', 'local', 'ipxefarm', 'general.h'), 'utf8'), /#define DOWNLOAD_PROTO_HTTPS/);
  assert.equal(await fsp.readFile(userHeader, 'utf8').catch(() => ''), userBefore);

  // The ISO really is an ISO 9660 image, and iPXE in it carries the farm script.
  const header = Buffer.alloc(6);
  const fh = await fsp.open(iso, 'r');
  await fh.read(header, 0, 5, 0x8001);
  await fh.close();
  assert.equal(header.subarray(0, 5).toString('latin1'), 'CD001');

  const m = await readManifest(layout, 'dut1');
  const rec = m?.images.iso;
  assert.ok(rec, 'manifest has the iso record');
  assert.equal(rec.source.version, source.version);
  assert.equal(rec.source.ref, 'v2.0.0');
  assert.match(rec.scriptSha256, /^[0-9a-f]{64}$/);
  // The manifest names the certificate and CA that openssl sees in the farm's files.
  const pki = path.join(layout.pki);
  const serial = execFileSync('openssl', ['x509', '-in', path.join(pki, 'issued', 'clients', 'dut1.crt'), '-noout', '-serial'], { encoding: 'utf8' }).trim().replace(/^serial=/, '');
  assert.equal(rec.cert.serial.replace(/^0+/, ''), serial.replace(/^0+/, ''));
  const caFp = execFileSync('openssl', ['x509', '-in', path.join(pki, 'ca.crt'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
  assert.equal(rec.caSha256, caFp);
  assert.equal(rec.files[0]!.name, 'ipxe.iso');

  // The script built in is the farm's: it chains to the farm address over HTTPS.
  const script = await fsp.readFile(path.join(clientOutDir(layout, 'dut1'), 'embedded.ipxe'), 'utf8');
  const farm = JSON.parse(await fsp.readFile(layout.farmFile, 'utf8'));
  assert.ok(script.includes(`chain https://${farm.server.address}:${farm.server.httpsPort}/boot.ipxe`));

  // The only lasting copy of the key is the image: no DER key, privkey object or linked image stays in bin/.
  const bin = await fsp.readdir(path.join(source.srcDir, 'bin'));
  for (const leftover of ['.private_key.der', 'privkey.o', 'blib.a', 'ipxe.iso', 'ipxe.lkrn']) {
    assert.ok(!bin.includes(leftover), `bin/${leftover} was scrubbed`);
  }
  assert.equal((await imageState(await openFarm(root), 'dut1', 'iso')).state, 'built');
});

test('stale after the client certificate is renewed or the farm address changes; missing for a client never built', { timeout: 5 * 60_000 }, async (t) => {
  if (!source) return t.skip(skipReason);
  assert.equal((await imageState(await openFarm(root), 'dut2', 'iso')).state, 'missing');
  assert.equal((await imageState(await openFarm(root), 'dut1', 'efi')).state, 'missing');
  await renew(await openFarm(root), 'dut1');
  const s = await imageState(await openFarm(root), 'dut1', 'iso');
  assert.equal(s.state, 'stale');
  assert.match(s.reasons.join(' '), /client certificate changed/);
  await updateFarm(root, (raw) => { (raw.server as Record<string, unknown>).address = '10.0.2.100'; });
  const s2 = await imageState(await openFarm(root), 'dut1', 'iso');
  assert.match(s2.reasons.join(' '), /embedded script changed/);
});

test('a second client after the first build is quick, and rebuilding dut1 makes it current again', { timeout: 10 * 60_000 }, async (t) => {
  if (!source) return t.skip(skipReason);
  let compiled = 0;
  const r2 = await buildClientImage(await openFarm(root), 'dut2', { target: 'iso', source, onProgress: (p) => { if (p.line && /\[BUILD\]/.test(p.line)) compiled++; } });
  t.diagnostic(`dut2 ISO (tree already built) in ${(r2.durationMs / 1000).toFixed(1)} s, ${compiled} objects compiled`);
  // Load-independent: only the embedded script, certificate store and key objects are recompiled (a clean build
  // compiles ~1000). Wall time on this shared machine says more about the neighbours than about the build.
  assert.ok(compiled > 0 && compiled < 20, `second client recompiled ${compiled} objects`);
  assert.ok(r2.durationMs < 5 * 60_000, `second client took ${r2.durationMs} ms`);
  const dut1 = await fsp.readFile(path.join(clientOutDir(farmLayout(root), 'dut1'), 'ipxe.iso'));
  const dut2 = await fsp.readFile(r2.files[0]!);
  assert.notDeepEqual(dut1, dut2, 'each client gets its own image');
  assert.equal((await imageState(await openFarm(root), 'dut2', 'iso')).state, 'built');
  await buildClientImage(await openFarm(root), 'dut1', { target: 'iso', source });
  assert.equal((await imageState(await openFarm(root), 'dut1', 'iso')).state, 'built');
});

test('cancelling a build kills make and leaves no image behind', { timeout: 5 * 60_000 }, async (t) => {
  if (!source) return t.skip(skipReason);
  const ac = new AbortController();
  const started = Date.now();
  const p = buildClientImage(await openFarm(root), 'dut2', { target: 'usb', source, signal: ac.signal, onProgress: (e) => { if (e.stage === 'make' && e.line) ac.abort(); } });
  await assert.rejects(p, (e: unknown) => e instanceof FarmError && e.code === 'ECANCELED');
  assert.ok(Date.now() - started < 60_000);
  await assert.rejects(fsp.access(path.join(clientOutDir(farmLayout(root), 'dut2'), 'ipxe.usb')));
  // No make of ours is left running in that tree.
  await new Promise((r) => setTimeout(r, 500));
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  assert.ok(!ps.split('\n').some((l) => l.startsWith(`make -C ${source!.srcDir}`) && l.includes('bin/ipxe.usb')), 'make was killed');
});

test('a client without a certificate is refused before make, in one sentence', async (t) => {
  if (!source) return t.skip(skipReason);
  await assert.rejects(buildClientImage(await openFarm(root), 'nobody', { source }), (e: unknown) => e instanceof FarmError && /nobody has no certificate/.test(e.message) && /issue client nobody/.test(e.fix ?? ''));
});

test('EFI target: ipxe.efi plus a FAT image holding EFI/BOOT/BOOTX64.EFI, both 0600', { timeout: 30 * 60_000 }, async (t) => {
  if (!source) return t.skip(skipReason);
  if (!which('mdir')) return t.skip('SKIPPED LOUDLY: mtools is not installed, so no EFI stick image can be made');
  // The EFI objects live in their own bin folder: building them from nothing is a second clean build, which this
  // suite does not do unless asked. Once they exist (any EFI build in this tree), the test runs every time.
  const list = await fsp.readFile(path.join(source.srcDir, 'bin-x86_64-efi', '.config.list'), 'utf8').catch(() => '');
  if (list.trim() !== 'ipxefarm' && process.env.IPXE_FARM_TEST_EFI !== '1') {
    return t.skip('SKIPPED LOUDLY: this tree has no EFI objects built for the farm yet (a second clean build of 70–110 s); run `ipxe-farm build CLIENT --target efi` once, or set IPXE_FARM_TEST_EFI=1');
  }
  const r = await buildClientImage(await openFarm(root), 'dut2', { target: 'efi', source });
  const [efi, img] = r.files;
  assert.equal(path.basename(efi!), 'ipxe.efi');
  assert.equal(path.basename(img!), 'ipxe-efi.img');
  for (const f of r.files) assert.equal((await fsp.stat(f)).mode & 0o777, 0o600, f);
  const head = Buffer.alloc(2);
  const fh = await fsp.open(efi!, 'r');
  await fh.read(head, 0, 2, 0);
  await fh.close();
  assert.equal(head.toString('latin1'), 'MZ', 'a PE executable');
  const listing = execFileSync('mdir', ['-i', img!, '-b', '::/EFI/BOOT'], { encoding: 'utf8' });
  assert.match(listing, /BOOTX64\.EFI/i);
  const copy = path.join(path.dirname(img!), 'check.efi');
  execFileSync('mcopy', ['-i', img!, '::/EFI/BOOT/BOOTX64.EFI', copy]);
  assert.deepEqual(await fsp.readFile(copy), await fsp.readFile(efi!), 'the stick carries the same binary');
  await fsp.rm(copy);
  const m = await readManifest(farmLayout(root), 'dut2');
  assert.ok(m?.images.efi && m.images.iso, 'the manifest keeps both targets');
});
