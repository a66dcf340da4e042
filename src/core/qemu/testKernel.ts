import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FarmError } from '../errors';
import { ensureDir, writeFileAtomic, userCacheDir } from '../fs/light';
import { which } from '../process/light';
import { runOk } from '../process';
import { archFacts, debianArch, type CpuArch } from '../farm/light';
import { aptOptions, machineDebianMirror } from '../stock';

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

/**
 * One line per file under /run/secrets (secret files iPXE placed in the initramfs), printed before the marker line:
 * `IPXE-FARM-SECRET-FILE <path> sha256=<hex> mode=<octal>`. Only the hash, so a boot log never holds the secret.
 */
export const SECRET_FILE_MARKER = 'IPXE-FARM-SECRET-FILE';
export const SECRET_FILE_RE = /IPXE-FARM-SECRET-FILE (\S+) sha256=([0-9a-f]{64}) mode=([0-7]+)/g;

/** The init that prints the marker on the first serial port (ttyS0 on x86_64, ttyAMA0 on arm64's `virt`). */
export function initScript(serialTty = 'ttyS0'): string {
  return `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
for f in /run/secrets/*; do
  [ -f "$f" ] && /bin/busybox echo "${SECRET_FILE_MARKER} $f sha256=$(/bin/busybox sha256sum < "$f" | /bin/busybox cut -c1-64) mode=$(/bin/busybox stat -c %a "$f")" > /dev/${serialTty}
done
/bin/busybox echo "${LINUX_MARKER} cmdline: $(/bin/busybox cat /proc/cmdline)" > /dev/${serialTty}
/bin/busybox poweroff -f
`;
}
export const INIT_SCRIPT = initScript();

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

/**
 * apt for a Debian architecture. The machine's own (amd64) is used as configured; another one (arm64) through a
 * private sources list naming the machine's mirror and suite, so dpkg need not know that architecture and the
 * machine's apt state is not touched.
 */
interface Apt { opts: string[]; close(): Promise<void> }
const HOST_APT: Apt = { opts: [], close: async () => undefined };

async function aptFor(debArch: string): Promise<Apt> {
  if (debArch === 'amd64') return HOST_APT;
  const mirror = machineDebianMirror();
  if (!mirror) throw new FarmError(`No Debian mirror is configured in /etc/apt, so the ${debArch} test kernel cannot be fetched.`, 'Add a Debian mirror to /etc/apt/sources.list.', 'ENOMIRROR');
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), `ipxe-farm-apt-${debArch}-`));
  const close = () => fsp.rm(work, { recursive: true, force: true });
  try {
    await ensureDir(path.join(work, 'lists', 'partial'));
    await ensureDir(path.join(work, 'cache', 'archives', 'partial'));
    await writeFileAtomic(path.join(work, 'sources.list'), `deb [arch=${debArch} signed-by=${mirror.keyring}] ${mirror.uri} ${mirror.suite} main\n`);
    const opts = aptOptions(work, debArch);
    await runOk('apt-get', [...opts, 'update'], { timeout: 10 * 60_000 });
    return { opts, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function kernelPackage(apt: Apt, debArch: string): Promise<string> {
  const r = await runOk('apt-cache', [...apt.opts, 'depends', `linux-image-${debArch}`], { timeout: 60_000 });
  const m = new RegExp(`Depends:\\s*(linux-image-\\S+-${debArch})\\b`).exec(r.stdout);
  if (!m) throw new FarmError(`apt-cache depends linux-image-${debArch} names no kernel package.`, 'Run `apt-get update` and try again.', 'ENOKERNEL');
  return m[1]!;
}

/** One file out of a Debian package (a tar glob such as ./boot/vmlinuz-*), without installing it or its other files. */
async function fetchFromPackage(apt: Apt, pkg: string, glob: string, dest: string): Promise<void> {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-farm-kernel-'));
  try {
    await runOk('apt-get', [...apt.opts, 'download', pkg], { cwd: tmp, timeout: 10 * 60_000 });
    const deb = (await fsp.readdir(tmp)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new FarmError(`apt-get download ${pkg} left no package file.`, 'Check that apt can reach its Debian mirror.', 'ENOKERNEL');
    // Only that member: a kernel package's modules are hundreds of MB we do not need.
    await runOk('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "$3"', 'sh', path.join(tmp, deb), tmp, glob], { timeout: 5 * 60_000 });
    const dir = path.join(tmp, path.dirname(glob));
    // tar extracted that member alone into its folder.
    const found = fs.existsSync(dir) ? (await fsp.readdir(dir))[0] : undefined;
    if (!found) throw new FarmError(`${deb} holds no ${glob}.`, undefined, 'ENOKERNEL');
    await fsp.copyFile(path.join(dir, found), `${dest}.part`);
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
const foreignMemo = new Map<CpuArch, Promise<TestKernel>>();

/**
 * {kernel, initrd} cached under ${XDG_CACHE_HOME:-~/.cache}/ipxe-farm/test-kernel/<package>/: downloaded once per
 * kernel version, initramfs rebuilt when the init script or busybox changes. Another CPU's (arm64) comes with that
 * CPU's busybox-static, both from the machine's Debian mirror.
 */
export function ensureTestKernel(cpu: CpuArch = 'x86_64'): Promise<TestKernel> {
  if (cpu !== 'x86_64') {
    let m = foreignMemo.get(cpu);
    if (!m) {
      m = foreignTestKernel(cpu);
      foreignMemo.set(cpu, m);
      m.catch(() => foreignMemo.delete(cpu));
    }
    return m;
  }
  memo ??= (async () => {
    let pkg: string;
    try {
      pkg = await kernelPackage(HOST_APT, 'amd64');
    } catch (err) {
      // Offline or no apt lists: use whatever kernel was cached before.
      const cached = fs.existsSync(cacheRoot()) ? fs.readdirSync(cacheRoot()).filter((d) => fs.existsSync(path.join(cacheRoot(), d, 'vmlinuz'))).sort() : [];
      if (!cached.length) throw err;
      pkg = cached[cached.length - 1]!;
    }
    const dir = path.join(cacheRoot(), pkg);
    await ensureDir(dir);
    const kernel = path.join(dir, 'vmlinuz');
    if (!fs.existsSync(kernel)) await fetchFromPackage(HOST_APT, pkg, './boot/vmlinuz-*', kernel);
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

function cachedKernels(debArch: string): string[] {
  return fs.existsSync(cacheRoot())
    ? fs.readdirSync(cacheRoot()).filter((d) => d.endsWith(`-${debArch}`) && fs.existsSync(path.join(cacheRoot(), d, 'vmlinuz'))).sort()
    : [];
}

async function foreignTestKernel(cpu: CpuArch): Promise<TestKernel> {
  const debArch = debianArch(cpu);
  const tty = cpu === 'arm64' ? archFacts('arm64-efi').serialTty : 'ttyS0';
  const cached = cachedKernels(debArch);
  const busyboxFile = path.join(cacheRoot(), `busybox-${debArch}`);
  let apt: Apt | undefined;
  try {
    let pkg = cached[cached.length - 1];
    if (!pkg) {
      apt = await aptFor(debArch);
      pkg = await kernelPackage(apt, debArch);
    }
    const dir = path.join(cacheRoot(), pkg);
    await ensureDir(dir);
    const kernel = path.join(dir, 'vmlinuz');
    if (!fs.existsSync(kernel)) await fetchFromPackage(apt!, pkg, './boot/vmlinuz-*', kernel);
    if (!fs.existsSync(busyboxFile)) {
      apt ??= await aptFor(debArch);
      await fetchFromPackage(apt, 'busybox-static', './bin/busybox', busyboxFile);
    }
    const busybox = await fsp.readFile(busyboxFile);
    const init = initScript(tty);
    const tag = createHash('sha256').update(init).update(busybox).digest('hex').slice(0, 12);
    const initrd = path.join(dir, `initrd-${tag}.gz`);
    if (!fs.existsSync(initrd)) await writeFileAtomic(initrd, buildInitramfs(busybox, init));
    return { kernel, initrd, package: pkg };
  } finally {
    await apt?.close();
  }
}
