import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FarmError } from '../errors';
import { ensureDir, writeFileAtomic } from '../fs/atomic';
import { runOk, which } from '../process/run';
import { userCacheDir } from '../fs/cacheDir';

/**
 * A real Linux kernel and a tiny busybox initramfs for test boots (tests, `ipxe-farm demo`, the boot benchmark).
 * The kernel is Debian's own (`apt-get download` of what linux-image-amd64 depends on), the initramfs is built here:
 * its /init prints one marker line with /proc/cmdline to the serial port and powers off, so a boot ends by itself and
 * a test can read the command line (with the client's secret) that the farm handed to the machine.
 */

/** The line the test initramfs prints: `IPXE-FARM-LINUX-UP cmdline: <the kernel command line>`. */
export const LINUX_MARKER = 'IPXE-FARM-LINUX-UP';
export const LINUX_MARKER_RE = /IPXE-FARM-LINUX-UP cmdline: ([^\r\n]*)/;

export interface TestKernel {
  kernel: string;
  initrd: string;
  /** Debian package the kernel came from, e.g. linux-image-6.1.0-56-amd64. */
  package: string;
}

export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox echo "${LINUX_MARKER} cmdline: $(/bin/busybox cat /proc/cmdline)" > /dev/ttyS0
/bin/busybox poweroff -f
`;

type CpioEntry = { name: string; mode: number; data?: Buffer; rdev?: [number, number] };

/** cpio "newc" (what the kernel unpacks as an initramfs), written directly so no cpio program is needed. */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const pad4 = (len: number) => Buffer.alloc((4 - (len % 4)) % 4);
  const add = (e: CpioEntry) => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`, 'utf8');
    const header = `070701${hex(ino++)}${hex(e.mode)}${hex(0)}${hex(0)}${hex(1)}${hex(0)}${hex(data.length)}`
      + `${hex(0)}${hex(0)}${hex(e.rdev?.[0] ?? 0)}${hex(e.rdev?.[1] ?? 0)}${hex(name.length)}${hex(0)}`;
    parts.push(Buffer.from(header, 'ascii'), name, pad4(110 + name.length), data, pad4(data.length));
  };
  entries.forEach(add);
  add({ name: 'TRAILER!!!', mode: 0 });
  return Buffer.concat(parts);
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

export function buildInitramfs(busybox: Buffer, init = INIT_SCRIPT): Buffer {
  return gzipSync(cpioNewc([
    { name: 'bin', mode: S_IFDIR | 0o755 },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
    { name: 'dev', mode: S_IFDIR | 0o755 },
    // The kernel opens /dev/console for init's stdio before anything is mounted.
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] },
    { name: 'proc', mode: S_IFDIR | 0o755 },
    { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(init, 'utf8') },
  ]), { level: 9 });
}

function cacheRoot(): string {
  return path.join(userCacheDir(), 'test-kernel');
}

async function kernelPackage(): Promise<string> {
  const r = await runOk('apt-cache', ['depends', 'linux-image-amd64'], { timeout: 60_000 });
  const m = /Depends:\s*(linux-image-\S+-amd64)\b/.exec(r.stdout);
  if (!m) throw new FarmError('apt-cache depends linux-image-amd64 names no kernel package.', 'Run `apt-get update` and try again.', 'ENOKERNEL');
  return m[1]!;
}

async function fetchKernel(pkg: string, dest: string): Promise<void> {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-farm-kernel-'));
  try {
    await runOk('apt-get', ['download', pkg], { cwd: tmp, timeout: 10 * 60_000 });
    const deb = (await fsp.readdir(tmp)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new FarmError(`apt-get download ${pkg} left no package file.`, 'Check that apt can reach its Debian mirror.', 'ENOKERNEL');
    // Only boot/vmlinuz-*: the package's modules are hundreds of MB we do not need.
    await runOk('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "./boot/vmlinuz-*"', 'sh', path.join(tmp, deb), tmp], { timeout: 5 * 60_000 });
    const vmlinuz = (await fsp.readdir(path.join(tmp, 'boot'))).find((f) => f.startsWith('vmlinuz-'));
    if (!vmlinuz) throw new FarmError(`${deb} holds no boot/vmlinuz-*.`, undefined, 'ENOKERNEL');
    await fsp.copyFile(path.join(tmp, 'boot', vmlinuz), `${dest}.part`);
    await fsp.rename(`${dest}.part`, dest);
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/** Why the test kernel cannot be had here, or undefined when it can (for t.skip with a loud reason). */
export function testKernelUnavailable(): string | undefined {
  const kernelCached = fs.existsSync(cacheRoot()) && fs.readdirSync(cacheRoot()).some((d) => fs.existsSync(path.join(cacheRoot(), d, 'vmlinuz')));
  if (!kernelCached && (!which('apt-get') || !which('dpkg-deb'))) return 'SKIPPED: no cached test kernel and no apt-get/dpkg-deb to fetch Debian\'s linux-image-amd64';
  if (!fs.existsSync('/bin/busybox') && !which('busybox')) return 'SKIPPED: busybox-static is not installed (apt-get install busybox-static)';
  return undefined;
}

let memo: Promise<TestKernel> | undefined;

/**
 * {kernel, initrd} cached under ${XDG_CACHE_HOME:-~/.cache}/ipxe-farm/test-kernel/<package>/: downloaded once per
 * kernel version, initramfs rebuilt when the init script or busybox changes.
 */
export function ensureTestKernel(): Promise<TestKernel> {
  memo ??= (async () => {
    let pkg: string;
    try {
      pkg = await kernelPackage();
    } catch (err) {
      // Offline or no apt lists: use whatever kernel was cached before.
      const cached = fs.existsSync(cacheRoot()) ? fs.readdirSync(cacheRoot()).filter((d) => fs.existsSync(path.join(cacheRoot(), d, 'vmlinuz'))).sort() : [];
      if (!cached.length) throw err;
      pkg = cached[cached.length - 1]!;
    }
    const dir = path.join(cacheRoot(), pkg);
    await ensureDir(dir);
    const kernel = path.join(dir, 'vmlinuz');
    if (!fs.existsSync(kernel)) await fetchKernel(pkg, kernel);
    const busyboxPath = fs.existsSync('/bin/busybox') ? '/bin/busybox' : which('busybox');
    if (!busyboxPath) throw new FarmError('busybox is not installed, so no test initramfs can be built.', 'Install it with: sudo apt-get install busybox-static', 'ENOPROGRAM');
    const busybox = await fsp.readFile(busyboxPath);
    const tag = createHash('sha256').update(INIT_SCRIPT).update(busybox).digest('hex').slice(0, 12);
    const initrd = path.join(dir, `initrd-${tag}.gz`);
    if (!fs.existsSync(initrd)) await writeFileAtomic(initrd, buildInitramfs(busybox));
    return { kernel, initrd, package: pkg };
  })();
  memo.catch(() => { memo = undefined; });
  return memo;
}
