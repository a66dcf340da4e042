import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { FarmError } from '../errors';
import { ensureDir, writeFileAtomic, userCacheDir } from '../fs/light';
import { which } from '../process/light';
import { run, runOk } from '../process';
import { debianArch, type CpuArch } from '../farm/light';

/**
 * Debian's prebuilt `ipxe` binaries (DESIGN.md §6), fetched with apt from the suite that has HTTPS-capable 2.0.0
 * builds. apt runs with a private sources list, lists folder and cache under the user's cache: the machine's own apt
 * configuration is read (for its mirror) but never changed.
 */

export const STOCK_SUITE = 'unstable';
export const STOCK_PACKAGE = 'ipxe';
/** The version verified to work (HTTPS in BIOS and EFI builds, certstore, sha256sum on EFI). */
export const STOCK_VERSION = '2.0.0+dfsg-5';

export interface StockIpxe {
  version: string;
  dir: string;
  /** x86-64 EFI iPXE with all drivers (the stick's EFI/BOOT/BOOTX64.EFI). */
  efi: string;
  /** BIOS iPXE as a Linux-kernel-format image (boots from QEMU -kernel or ISOLINUX, script as initrd). */
  lkrn: string;
}

/** The stock EFI iPXE for a CPU: the same Debian package (Architecture: all) carries every architecture's build. */
export function stockEfiFor(stock: StockIpxe, cpu: CpuArch): string {
  if (cpu === 'x86_64') return stock.efi;
  const f = path.join(path.dirname(stock.efi), `ipxe-${debianArch(cpu)}.efi`);
  if (!fs.existsSync(f)) throw new FarmError(`Debian's ipxe ${stock.version} in ${stock.dir} has no ${path.basename(f)}.`, 'Remove that folder so the current package is downloaded, or build iPXE from source.', 'EDOWNLOAD');
  return f;
}

const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The Debian mirror this machine already uses (deb822 .sources or one-line .list), and the keyring it trusts. */
export function machineDebianMirror(): { uri: string; keyring: string; suite: string } | undefined {
  const found: { uri: string; keyring: string; suite: string }[] = [];
  const files: string[] = [];
  if (fs.existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  try {
    for (const f of fs.readdirSync('/etc/apt/sources.list.d')) if (/\.(sources|list)$/.test(f)) files.push(path.join('/etc/apt/sources.list.d', f));
  } catch { /* none */ }
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    if (f.endsWith('.sources')) {
      for (const para of text.split(/\n\s*\n/)) {
        const field = (n: string) => new RegExp(`^${n}:\\s*(.+)$`, 'mi').exec(para)?.[1]?.trim();
        if (/^Enabled:\s*no/mi.test(para)) continue;
        const uris = field('URIs')?.split(/\s+/) ?? [];
        const suites = field('Suites') ?? '';
        const keyring = field('Signed-By');
        for (const uri of uris) {
          if (/\/debian\/?$/.test(uri) && !/security|updates|backports/.test(suites.split(/\s+/)[0] ?? '')) {
            found.push({ uri, keyring: keyring && keyring.startsWith('/') ? keyring : DEFAULT_KEYRING, suite: suites.split(/\s+/)[0]! });
          }
        }
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
        if (!m || !/\/debian\/?$/.test(m[2]!) || /security|updates|backports/.test(m[3]!)) continue;
        const signed = /signed-by=(\S+)/.exec(m[1] ?? '')?.[1];
        found.push({ uri: m[2]!, keyring: signed ?? DEFAULT_KEYRING, suite: m[3]! });
      }
    }
  }
  return found[0];
}

/** apt options that keep its sources list, lists and cache in `work`: the machine's apt state is never touched. */
export function aptOptions(work: string, arch = 'amd64'): string[] {
  return [
    '-q',
    '-o', `Dir::Etc::SourceList=${path.join(work, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/nonexistent',
    '-o', `Dir::State::Lists=${path.join(work, 'lists')}`,
    '-o', `Dir::Cache=${path.join(work, 'cache')}`,
    '-o', `APT::Architecture=${arch}`,
    '-o', `APT::Architectures=${arch}`,
  ];
}

export function stockCacheDir(): string {
  return path.join(userCacheDir(), 'stock');
}

function fromDir(dir: string, version: string): StockIpxe | undefined {
  const efi = path.join(dir, 'usr/lib/ipxe/ipxe-amd64.efi');
  const lkrn = path.join(dir, 'usr/lib/ipxe/ipxe.lkrn');
  return fs.existsSync(efi) && fs.existsSync(lkrn) ? { version, dir, efi, lkrn } : undefined;
}

/** The stock binaries, downloaded once into ${XDG_CACHE_HOME:-~/.cache}/ipxe-farm/stock/. */
export async function ensureStockIpxe(opts: { signal?: AbortSignal; onProgress?: (line: string) => void } = {}): Promise<StockIpxe> {
  const root = stockCacheDir();
  const pinned = fromDir(path.join(root, `ipxe_${STOCK_VERSION}`), STOCK_VERSION);
  if (pinned) return pinned;
  try {
    for (const d of fs.readdirSync(root)) {
      const s = d.startsWith('ipxe_') ? fromDir(path.join(root, d), d.slice(5)) : undefined;
      if (s) return s;
    }
  } catch { /* empty cache */ }

  for (const p of ['apt-get', 'dpkg-deb']) {
    if (!which(p)) throw new FarmError(`${p} is not available, so Debian's stock iPXE cannot be downloaded.`, 'Run this on a Debian or Ubuntu machine, or build iPXE from source (ipxe-farm build).', 'ENOPROGRAM');
  }
  const mirror = machineDebianMirror();
  if (!mirror) throw new FarmError('No Debian mirror is configured in /etc/apt, so the stock iPXE package cannot be fetched.', 'Add a Debian mirror to /etc/apt/sources.list, or build iPXE from source.', 'ENOMIRROR');
  await ensureDir(root);
  const work = await fsp.mkdtemp(path.join(root, '.apt-'));
  try {
    await ensureDir(path.join(work, 'lists', 'partial'));
    await ensureDir(path.join(work, 'cache', 'archives', 'partial'));
    await writeFileAtomic(path.join(work, 'sources.list'), `deb [signed-by=${mirror.keyring}] ${mirror.uri} ${STOCK_SUITE} main\n`);
    opts.onProgress?.(`apt-get update (private list: ${STOCK_SUITE})`);
    await runOk('apt-get', [...aptOptions(work), 'update'], { signal: opts.signal, timeout: 10 * 60_000 });
    opts.onProgress?.(`apt-get download ${STOCK_PACKAGE}`);
    let r = await run('apt-get', [...aptOptions(work), 'download', `${STOCK_PACKAGE}=${STOCK_VERSION}`], { cwd: work, signal: opts.signal, timeout: 10 * 60_000 });
    if (r.exitCode !== 0) {
      opts.onProgress?.(`${STOCK_PACKAGE} ${STOCK_VERSION} is gone from ${STOCK_SUITE}; taking its current version`);
      r = await runOk('apt-get', [...aptOptions(work), 'download', STOCK_PACKAGE], { cwd: work, signal: opts.signal, timeout: 10 * 60_000 });
    }
    const deb = (await fsp.readdir(work)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new FarmError(`apt-get download ${STOCK_PACKAGE} left no package in ${work}.`, undefined, 'EDOWNLOAD');
    const version = decodeURIComponent(/^ipxe_([^_]+)_/.exec(deb)?.[1] ?? 'unknown').replace(/%3a/gi, ':');
    const unpack = path.join(work, 'root');
    await runOk('dpkg-deb', ['-x', path.join(work, deb), unpack], { timeout: 5 * 60_000 });
    const dest = path.join(root, `ipxe_${version}`);
    await fsp.rm(dest, { recursive: true, force: true });
    await fsp.rename(unpack, dest);
    const got = fromDir(dest, version);
    if (!got) throw new FarmError(`Debian's ${deb} has no ipxe-amd64.efi or ipxe.lkrn.`, 'Build iPXE from source instead (ipxe-farm build).', 'EDOWNLOAD');
    return got;
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** Why the stock binaries cannot be had, or undefined (for tests' loud skip reasons). */
export function stockUnavailable(): string | undefined {
  try {
    if (fs.readdirSync(stockCacheDir()).some((d) => d.startsWith('ipxe_'))) return undefined;
  } catch { /* not cached */ }
  if (!which('apt-get') || !which('dpkg-deb')) return 'SKIPPED: no cached stock iPXE and no apt-get/dpkg-deb to download Debian\'s ipxe package';
  if (!machineDebianMirror()) return 'SKIPPED: no Debian mirror configured in /etc/apt to download the stock ipxe package from';
  return undefined;
}

