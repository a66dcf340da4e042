import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { updateFarm } from '../../../src/core/farm/load';
import { launchQemu } from '../../../src/core/qemu/launch';
import { setSecret } from '../../../src/core/secrets/store';
import { tempFarm, which } from '../../support/farm';
import { ensureTestKernel, LINUX_MARKER_RE, TestKernel, testKernelUnavailable } from '../../support/kernel';

// Finding 2 of issue 13: `ipxe-farm qemu` and the editor's Launch in QEMU wrote the guest's command line, secrets
// included, in clear into the serial log; only the demo passed the redaction. A real QEMU boot whose kernel command
// line carries a farm secret: every launch path shows the mask, never the value, in the log and the live console.

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ISOLINUX = '/usr/lib/ISOLINUX/isolinux.bin';
const LDLINUX = '/usr/lib/syslinux/modules/bios/ldlinux.c32';
const SECRET = 'farm-s3-7Qx2vR9kLm';
const OTHER = 'unused-secret-Zz81'; // a secret no script uses is masked too: which ones a guest prints is not known

const missing = !which('qemu-system-x86_64') ? 'SKIPPED LOUDLY: qemu-system-x86_64 is not installed: serial-log redaction was NOT checked'
  : !which('socat') ? 'SKIPPED LOUDLY: socat is not installed (restricted networking needs it)'
    : !which('xorriso') || !fs.existsSync(ISOLINUX) || !fs.existsSync(LDLINUX) ? 'SKIPPED LOUDLY: xorriso and isolinux are needed to make the test ISO'
      : testKernelUnavailable();
let root = '';
let kernel: TestKernel | undefined;

/** A BIOS ISO that boots the test kernel with `append` (isolinux on the serial console): an image like a client's. */
async function kernelIso(dir: string, k: TestKernel, append: string): Promise<string> {
  const tree = path.join(dir, 'iso');
  fs.mkdirSync(tree, { recursive: true });
  fs.copyFileSync(ISOLINUX, path.join(tree, 'isolinux.bin'));
  fs.copyFileSync(LDLINUX, path.join(tree, 'ldlinux.c32'));
  fs.copyFileSync(k.kernel, path.join(tree, 'vmlinuz'));
  fs.copyFileSync(k.initrd, path.join(tree, 'initrd'));
  fs.writeFileSync(path.join(tree, 'isolinux.cfg'), `SERIAL 0 115200\nDEFAULT linux\nTIMEOUT 1\nLABEL linux\n  KERNEL /vmlinuz\n  APPEND initrd=/initrd ${append}\n`);
  const iso = path.join(dir, 'kernel.iso');
  const r = spawn('xorriso', ['-as', 'mkisofs', '-quiet', '-o', iso, '-b', 'isolinux.bin', '-c', 'boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', tree]);
  await new Promise<void>((resolve, reject) => r.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`xorriso exited ${c}`)))));
  return iso;
}

before(async () => {
  if (missing) return;
  kernel = await ensureTestKernel();
  root = await tempFarm('redact');
  // 10.0.2.100: restricted user networking whose only exits are the farm's ports on 127.0.0.1.
  await updateFarm(root, (raw) => { (raw.server as Record<string, unknown>).address = '10.0.2.100'; });
  await setSecret(root, 's3key', SECRET);
  await setSecret(root, 'other', OTHER);
});

after(() => { if (root) fs.rmSync(path.dirname(root), { recursive: true, force: true }); });

test('`ipxe-farm qemu` (CLI): the console and the serial log show «redacted» where the kernel printed the farm\'s secret', { timeout: 400_000 }, async (t) => {
  if (missing) return t.skip(missing);
  const iso = await kernelIso(path.join(root, 'ext'), kernel!, `console=ttyS0 quiet farm.s3=${SECRET} also=${OTHER}`);
  const child = spawn(process.execPath, [cli, 'qemu', 'dut1', '--headless', '--image', iso, '--timeout', '300', '--until', 'IPXE-FARM-LINUX-UP cmdline: .*'], { cwd: root });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, `${err}\n${out.slice(-2000)}`);
  assert.match(out, /IPXE-FARM-LINUX-UP cmdline: .*farm\.s3=«redacted» also=«redacted»/, 'the console shows the mask');
  for (const s of [SECRET, OTHER]) {
    assert.ok(!out.includes(s) && !err.includes(s), 'the console never shows a secret');
  }
  const logFile = /Serial log: (\S+)/.exec(err)?.[1];
  assert.ok(logFile, err);
  const log = fs.readFileSync(logFile, 'utf8');
  assert.match(log, /IPXE-FARM-LINUX-UP cmdline: .*farm\.s3=«redacted» also=«redacted»/);
  assert.ok(!log.includes(SECRET) && !log.includes(OTHER), 'the serial log never holds a secret');
});

test('core launchQemu with a farm root (the editor\'s Launch in QEMU path): log and live stream masked without being asked', { timeout: 300_000 }, async (t) => {
  if (missing) return t.skip(missing);
  const seen: string[] = [];
  const h = await launchQemu({
    root, name: 'editor',
    spec: { firmware: 'bios', accel: 'auto', memoryMiB: 256, network: { kind: 'none' },
      medium: { kind: 'kernel', kernel: kernel!.kernel, initrd: kernel!.initrd, append: `console=ttyS0 quiet farm.s3=${SECRET}` } },
    headless: { timeoutMs: 240_000, marker: LINUX_MARKER_RE },
  });
  h.onData((d) => seen.push(d));
  try {
    assert.match(h.command, /farm\.s3=«redacted»/, 'the QEMU command the terminal shows is masked too');
    assert.ok(!h.command.includes(SECRET));
    const r = await h.done;
    assert.equal(r.reason, 'marker', r.output.slice(-2000));
    const shown = seen.join('');
    assert.match(shown, /farm\.s3=«redacted»/);
    assert.ok(!shown.includes(SECRET), 'what the editor\'s terminal receives holds no secret');
    const log = fs.readFileSync(r.logFile, 'utf8');
    assert.match(log, /farm\.s3=«redacted»/);
    assert.ok(!log.includes(SECRET));
  } finally {
    h.kill();
  }
});
