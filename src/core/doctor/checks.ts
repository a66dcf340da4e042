import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FarmHandle } from '../farm/light';
import { describeSocketReach } from '../nginx/light';
import { which } from '../process/light';
import { run } from '../process';
import { findOvmf } from '../stock/light';
import { formatPodmanFix, probePodman, chooseNginxImage, OFFICIAL_NGINX_IMAGE } from '../nginx';
import { cachedTreeDir } from '../ipxe';

/** One thing the farm needs from the machine, and how to get it when it is missing. */
export interface Check {
  id: string;
  /** What it is for, in the farm's words. */
  purpose: string;
  /** Needed for the main path (nginx + boot service + iPXE build + QEMU test boot), or only for one option. */
  required: boolean;
  ok: boolean;
  detail: string;
  fix?: string;
}

const apt = (pkgs: string) => `sudo apt-get install -y ${pkgs}`;

async function version(program: string, args: string[], pattern: RegExp): Promise<string | undefined> {
  try {
    const r = await run(program, args, { timeout: 10_000 });
    const m = pattern.exec(`${r.stdout}\n${r.stderr}`);
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

function programCheck(id: string, purpose: string, pkg: string, required = true): Check {
  const at = which(id);
  return { id, purpose, required, ok: !!at, detail: at ?? 'not found on PATH', fix: at ? undefined : apt(pkg) };
}

/** The iPXE source trees the farm would find: $IPXE_SRC, then the per-user cache of the pinned ref. */
export function ipxeSourceCandidates(ref = 'v2.0.0'): string[] {
  return [process.env.IPXE_SRC, cachedTreeDir(ref)].filter((p): p is string => !!p);
}

export async function runChecks(opts: { ipxeSource?: string; ipxeRef?: string; nginxImage?: string } = {}): Promise<Check[]> {
  const checks: Check[] = [];
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  checks.push({
    id: 'node', purpose: 'runs the CLI and the boot service', required: true, ok: nodeMajor >= 20,
    detail: `Node ${process.versions.node}`, fix: nodeMajor >= 20 ? undefined : 'Install Node.js 20 or newer.',
  });

  const nginx = programCheck('nginx', 'the local nginx runtime (and the fallback when podman is absent)', 'nginx');
  if (nginx.ok) nginx.detail = `${nginx.detail} (${(await version('nginx', ['-v'], /nginx\/(\S+)/)) ?? 'version unknown'})`;
  checks.push(nginx);

  const podman = programCheck('podman', 'the podman nginx runtime (the seed\'s `podman run … nginx`)', 'podman runc', false);
  if (podman.ok) {
    const v = await version('podman', ['--version'], /version (\S+)/);
    const info = await run('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}'], { timeout: 20_000 }).catch(() => undefined);
    if (!info || info.exitCode !== 0) {
      podman.ok = false;
      podman.detail = `podman ${v ?? '?'} is installed but \`podman info\` fails: ${(info?.stderr ?? '').trim().split('\n').pop() ?? 'no answer'}`;
      podman.fix = 'Fix podman first (`podman info`); on machines where crun cannot run, set runtime = "runc" in containers.conf. The local runtime works meanwhile.';
    } else {
      // `podman info` answers where every `podman run` fails: start a real (empty) container to know.
      const probe = await probePodman();
      podman.ok = probe.ok;
      podman.detail = `podman ${v ?? '?'}, OCI runtime ${info.stdout.trim()}${probe.ok ? '' : `; ${probe.detail}`}`;
      if (!probe.ok) podman.fix = `${formatPodmanFix(probe) ?? 'Check `podman run` by hand.'}\nThe local runtime works meanwhile.`;
    }
  }
  checks.push(podman);
  if (which('podman')) {
    const image = await chooseNginxImage(opts.nginxImage ?? OFFICIAL_NGINX_IMAGE).catch(() => undefined);
    if (image) checks.push({ id: 'nginx-image', purpose: 'the podman nginx runtime', required: false, ok: image.present, detail: image.describe, fix: image.fix });
  }

  const qemu = programCheck('qemu-system-x86_64', 'test boots of client images', 'qemu-system-x86');
  if (qemu.ok) qemu.detail = `${qemu.detail} (${(await version('qemu-system-x86_64', ['--version'], /version (\S+)/)) ?? '?'})`;
  checks.push(qemu);
  let kvm = false;
  try { fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK); kvm = true; } catch { /* none */ }
  checks.push({
    id: 'kvm', purpose: 'fast QEMU boots (otherwise TCG emulation, ~10x slower but fine for tests)', required: false, ok: kvm,
    detail: kvm ? '/dev/kvm is accessible (QEMU still falls back to TCG if it fails)' : '/dev/kvm is missing or not accessible',
    fix: kvm ? undefined : 'Enable virtualisation in the firmware and add yourself to the kvm group; QEMU uses TCG meanwhile.',
  });
  checks.push(programCheck('socat', 'restricted QEMU networking (guestfwd to 127.0.0.1) in tests and the demo', 'socat'));
  const ovmf = ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd', '/usr/share/ovmf/OVMF.fd'].find((f) => fs.existsSync(f));
  checks.push({
    id: 'ovmf', purpose: 'EFI test boots', required: false, ok: !!ovmf,
    detail: ovmf ?? 'no OVMF firmware found', fix: ovmf ? undefined : apt('ovmf'),
  });

  // arm64 boards: optional, so a farm of x86 machines stays green without them.
  checks.push(programCheck('qemu-system-aarch64', 'test boots of arm64-efi clients', 'qemu-system-arm', false));
  const aavmf = findOvmf('arm64');
  checks.push({ id: 'aavmf', purpose: 'arm64 EFI test boots', required: false, ok: !!aavmf, detail: aavmf?.code ?? 'no AAVMF firmware found', fix: aavmf ? undefined : apt('qemu-efi-aarch64') });
  checks.push(programCheck('aarch64-linux-gnu-gcc', 'cross-building arm64 iPXE images', 'gcc-aarch64-linux-gnu', false));

  for (const [id, pkg, purpose] of [
    ['make', 'make', 'building iPXE'],
    ['gcc', 'gcc', 'building iPXE'],
    ['perl', 'perl', 'building iPXE (its build scripts)'],
    ['xorrisofs', 'xorriso', 'iPXE ISO images'],
    ['mcopy', 'mtools', 'EFI stick images (FAT)'],
    ['git', 'git', 'fetching the pinned iPXE source'],
  ] as const) checks.push(programCheck(id, purpose, pkg));
  const lzma = fs.existsSync('/usr/include/lzma.h');
  checks.push({ id: 'liblzma-dev', purpose: 'building iPXE (util/zbin compresses the image)', required: true, ok: lzma, detail: lzma ? '/usr/include/lzma.h' : 'lzma.h not found', fix: lzma ? undefined : apt('liblzma-dev') });
  const isolinux = fs.existsSync('/usr/lib/ISOLINUX/isolinux.bin') && fs.existsSync('/usr/lib/syslinux/modules/bios/ldlinux.c32');
  checks.push({ id: 'isolinux', purpose: 'iPXE BIOS ISO images', required: true, ok: isolinux, detail: isolinux ? '/usr/lib/ISOLINUX/isolinux.bin' : 'isolinux.bin or ldlinux.c32 missing', fix: isolinux ? undefined : apt('isolinux syslinux-common') });

  const sources = opts.ipxeSource ? [opts.ipxeSource] : ipxeSourceCandidates(opts.ipxeRef);
  const found = sources.find((s) => fs.existsSync(path.join(s, 'src', 'Makefile')));
  checks.push({
    id: 'ipxe-source', purpose: 'building per-client iPXE images', required: true, ok: !!found,
    detail: found ?? `none of ${sources.join(', ')} holds an iPXE tree`,
    fix: found ? undefined : `Run \`ipxe-farm ipxe source --fetch\` (clones the pinned release with git), or point IPXE_SRC or the farm's ipxe.source at a checkout. Meanwhile Debian's prebuilt EFI iPXE still works: \`ipxe-farm stock-image CLIENT\`, and \`ipxe-farm demo\` boots it.`,
  });
  checks.push(programCheck('openssl', 'checking certificates by hand (the farm itself never calls it)', 'openssl', false));
  return checks;
}

/** In a farm: who can reach its boot socket (only nginx's workers should); a socket open to others fails the check. */
export function socketReachCheck(h: FarmHandle): Check {
  const r = describeSocketReach(h);
  return { id: 'boot-socket', purpose: 'only nginx may reach the boot service (else client identities can be forged)', required: !r.ok, ok: r.ok, detail: r.text, fix: r.fix };
}

export function formatChecks(checks: Check[]): string {
  const lines = checks.map((c) => {
    const mark = c.ok ? 'ok  ' : c.required ? 'MISS' : 'opt ';
    const fix = (c.fix ?? '').split('\n').join(`\n     ${''.padEnd(19)} `);
    return `${mark} ${c.id.padEnd(19)} ${c.detail}${c.ok ? '' : `\n     ${''.padEnd(19)} for ${c.purpose}. ${fix}`}`;
  });
  const missing = checks.filter((c) => !c.ok && c.required);
  lines.push('', missing.length === 0 ? 'Everything the farm needs is here.' : `${missing.length} required item(s) missing: ${missing.map((c) => c.id).join(', ')}.`);
  const pkgs = checks.filter((c) => !c.ok && c.fix?.startsWith('sudo apt-get')).map((c) => c.fix!.replace('sudo apt-get install -y ', ''));
  if (pkgs.length) lines.push(`Install them all with: sudo apt-get install -y ${[...new Set(pkgs.join(' ').split(' '))].join(' ')}`);
  return lines.join('\n');
}
