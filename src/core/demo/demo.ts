import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeError, FarmError } from '../errors';
import { initFarm, updateFarm, farmHandle } from '../farm/light';
import { initCa, issueClient, issueCodesign, issueServer, signFile } from '../pki';
import { setSecret } from '../secrets/light';
import { generateNginxConfig, type NginxRuntime } from '../nginx/light';
import { createNginxRuntime, probePodman, chooseNginxImage, OFFICIAL_NGINX_IMAGE, buildLocalNginxImage } from '../nginx';
import { startBootService, type BootService } from '../boot/light';
import { buildClientImage } from '../ipxe';
import { buildStockImage } from '../stock';
import { sha256File, sha256PinLines } from '../stock/light';
import { bootHeadless, type QemuResult, clientLaunchOptions } from '../qemu';
import { freeLoopbackPort } from '../net/light';
import { demoKernel, DEMO_MARKER } from './kernel';
import { BUILT_PATH_HINT, chooseDemoIpxe, type DemoIpxeChoice, type DemoIpxeWish } from './ipxePath';

/**
 * The whole of the seed's workflow in one go, with the product's own core calls: farm, CA, certificates, a signed
 * kernel + initrd with a secret on the command line, nginx, the boot service, an iPXE image for dut1, and a QEMU boot
 * whose Linux prints the command line it was given. The guest reaches nothing but the farm: restricted user
 * networking relays 10.0.2.100 to the farm's loopback ports.
 */

export const DEMO_CLIENT = 'dut1';
/** The address the guest uses for the farm; restricted user networking forwards it to 127.0.0.1. */
export const DEMO_ADDRESS = '10.0.2.100';

export type DemoStage = 'farm' | 'source' | 'pki' | 'kernel' | 'nginx' | 'boot-service' | 'image' | 'qemu' | 'check';

export const STAGE_HELP: Record<DemoStage, string> = {
  farm: 'check that the folder is writable and holds no farm yet',
  pki: 'see `ipxe-farm certs` in the farm folder',
  source: 'IPXE_SRC or ipxe.source names a folder that is not an iPXE tree: fix or unset it (or run with --ipxe stock)',
  kernel: 'the demo kernel comes from Debian (apt-get download linux-image-amd64) and busybox-static: run `ipxe-farm doctor`',
  nginx: 'see `ipxe-farm nginx logs` and `ipxe-farm nginx test` in the farm folder',
  'boot-service': 'see the boot service lines above',
  image: 'the iPXE source tree and build tools (built image) or Debian\'s ipxe package, OVMF and mtools (stock image): run `ipxe-farm doctor`; the make output is in the error above',
  qemu: 'read the serial log named above; iPXE error codes are decoded in it (`ipxe-farm decode CODE`)',
  check: 'the guest booted but its command line lacks the secret: compare `ipxe-farm script dut1 --reveal` with the serial log',
};

export interface DemoOptions {
  /** Folder for the demo farm; default a new temp folder. */
  dir?: string;
  /** Leave nginx and the boot service running at the end. */
  keep?: boolean;
  /** Force an nginx runtime; default podman when it can start here, else local. */
  runtime?: 'podman' | 'local';
  /** Which iPXE to boot: a built image, Debian's prebuilt one, or (default) built when a source tree can be had. */
  ipxe?: DemoIpxeWish;
  /** Clone iPXE from GitHub when no tree is on this machine (default true); false: a tree you have, else stock. */
  clone?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

export interface DemoResult {
  ok: boolean;
  root: string;
  runtime: 'podman' | 'local';
  /** The iPXE that booted: built from source, or Debian's prebuilt EFI binary. */
  ipxe?: 'built' | 'stock';
  /** How the kernel and initrd were checked: imgverify signatures, or SHA-256 pins in the served script. */
  integrity?: 'imgverify' | 'sha256';
  /** Why the stock image was used. */
  ipxeWhy?: string;
  /** Wall-clock seconds from the start of the demo to the end of each stage. */
  stageTimes: Partial<Record<DemoStage, number>>;
  boot?: Pick<QemuResult, 'stages' | 'reason' | 'logFile' | 'errors'>;
  cmdline?: string;
  failedStage?: DemoStage;
  error?: string;
  /** Running when `keep`: how to stop them. */
  stop?: () => Promise<void>;
}

/** A temp parent nginx's workers can pass through (search only: nobody else can list it), unlike mkdtemp's 0700. */
async function tempParent(): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-farm-demo-'));
  await fsp.chmod(dir, 0o711);
  return dir;
}

/**
 * podman (the seed's own workflow) whenever it can start containers here, with the official nginx image or, where no
 * registry answers, one built from this machine's packages; else the local runtime, saying why.
 */
async function chooseRuntime(want: DemoOptions['runtime'], say: (s: string) => void, signal?: AbortSignal): Promise<'podman' | 'local'> {
  if (want) return want;
  const probe = await probePodman({ signal });
  if (!probe.ok) {
    const fix = probe.fix ? ' (`ipxe-farm doctor` prints the containers.conf that fixes it)' : '';
    say(`[nginx] ${probe.detail}${fix}; nginx runs as a local process instead (the farm's "local" runtime)`);
    return 'local';
  }
  const choice = await chooseNginxImage(OFFICIAL_NGINX_IMAGE, { pull: true, signal, onProgress: (l) => say(`[nginx] ${l}`) });
  if (choice.present) {
    say(`[nginx] podman starts containers here; image ${choice.describe}`);
    return 'podman';
  }
  say('[nginx] no nginx image here and none could be pulled: building one from this machine\'s packages (`ipxe-farm nginx image`)');
  try {
    const built = await buildLocalNginxImage({ signal, onProgress: (l) => say(`[nginx] ${l}`) });
    say(`[nginx] built ${built.image} in ${(built.durationMs / 1000).toFixed(1)} s`);
    return 'podman';
  } catch (err) {
    say(`[nginx] could not build an nginx image (${describeError(err).split('\n')[0]}); nginx runs as a local process instead`);
    return 'local';
  }
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const say = opts.progress ?? (() => undefined);
  const t0 = Date.now();
  const root = opts.dir ? path.resolve(opts.dir) : path.join(await tempParent(), 'demo');
  const result: DemoResult = { ok: false, root, runtime: 'local', stageTimes: {} };
  let stage: DemoStage = 'farm';
  let nginx: NginxRuntime | undefined;
  let boot: BootService | undefined;
  const mark = (s: DemoStage) => { result.stageTimes[s] = (Date.now() - t0) / 1000; };
  const secret = `s3-${randomBytes(9).toString('base64url')}`;

  const stop = async () => {
    await boot?.close().catch(() => undefined);
    await nginx?.down().catch(() => undefined);
  };

  try {
    say(`[farm] creating a farm in ${root}`);
    await initFarm(root, { name: 'demo' });
    const [httpsPort, httpPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    // The farm as the PKI must see it (the server's names written): the certificates below are made from this handle.
    const served = farmHandle(await updateFarm(root, (raw) => {
      raw.server = { address: DEMO_ADDRESS, names: ['localhost', '127.0.0.1'], httpsPort, httpPort };
    }));
    const { layout } = served;
    mark('farm');

    stage = 'source';
    const choice: DemoIpxeChoice = await chooseDemoIpxe(served.farm, root, opts.ipxe ?? 'auto', {
      clone: opts.clone,
      signal: opts.signal,
      onProgress: (l) => { if (l.trim()) say(`[source] ${l.trim()}`); },
    });
    result.ipxe = choice.kind;
    if (choice.kind === 'built') say(`[source] iPXE ${choice.source.version} at ${choice.source.dir}: building a client image`);
    else {
      result.ipxeWhy = choice.why;
      say(`[source] booting Debian's prebuilt EFI iPXE (${choice.why}); ${BUILT_PATH_HINT}`);
    }
    mark('source');

    stage = 'pki';
    say(`[pki] CA, server certificate (for 10.0.2.100), client certificate dut1${choice.kind === 'built' ? ', code-signing certificate' : ''}`);
    await initCa(served);
    await issueServer(served);
    await issueClient(served, DEMO_CLIENT);
    // Only imgverify needs it: the stock path pins hashes instead.
    if (choice.kind === 'built') await issueCodesign(served);
    mark('pki');

    stage = 'kernel';
    const stock = choice.kind === 'stock';
    result.integrity = stock ? 'sha256' : 'imgverify';
    say(stock
      ? '[kernel] a Debian kernel and a busybox initramfs; integrity: SHA-256 pins in the served script (Debian\'s iPXE has no imgverify)'
      : '[kernel] a Debian kernel and a busybox initramfs; integrity: imgverify against the farm\'s code-signing certificate');
    const k = await demoKernel();
    const [kernelFile, initrdFile] = [path.join(layout.files, 'vmlinuz'), path.join(layout.files, 'initrd.gz')];
    await fsp.copyFile(k.kernel, kernelFile);
    await fsp.copyFile(k.initrd, initrdFile);
    if (!stock) {
      await signFile(served, kernelFile);
      await signFile(served, initrdFile);
    }
    const pins = stock
      ? sha256PinLines([
        { name: 'kernel', sha256: await sha256File(kernelFile), what: 'the kernel' },
        { name: 'initrd0', sha256: await sha256File(initrdFile), what: 'the initrd' },
      ])
      : [];
    await setSecret(root, 's3key', secret);
    await updateFarm(root, (raw) => {
      raw.profiles = {
        linux: {
          description: 'The demo kernel; the secret travels only over mutual TLS',
          kernel: 'vmlinuz',
          initrds: ['initrd.gz'],
          cmdline: 'console=ttyS0 quiet farm.client={{client.name}} farm.s3={{secret.s3key}}',
          verify: !stock,
          extra: pins,
        },
      };
      raw.clients = { [DEMO_CLIENT]: { profile: 'linux', macs: ['52:54:00:12:34:56'], vars: {} } };
    });
    mark('kernel');

    stage = 'nginx';
    result.runtime = await chooseRuntime(opts.runtime, say, opts.signal);
    // The farm as the demo leaves it (the runtime recorded): the images and the launch below read this one handle.
    let opened = farmHandle(await updateFarm(root, (raw) => { raw.nginx = { ...(raw.nginx as object), runtime: result.runtime }; }));
    await generateNginxConfig(opened);
    nginx = createNginxRuntime(opened, result.runtime);
    say(`[nginx] starting (${result.runtime}) on 127.0.0.1:${httpsPort} (HTTPS, client certificates required) and :${httpPort} (files)`);
    try {
      await nginx.up(opts.signal);
    } catch (err) {
      if (result.runtime !== 'podman' || opts.runtime) throw err;
      say(`[nginx] podman could not start nginx (${describeError(err).split('\n')[0]}); using the local runtime instead`);
      await nginx.down().catch(() => undefined);
      result.runtime = 'local';
      opened = farmHandle(await updateFarm(root, (raw) => { raw.nginx = { ...(raw.nginx as object), runtime: 'local' }; }));
      nginx = createNginxRuntime(opened, 'local');
      await nginx.up(opts.signal);
    }
    mark('nginx');

    stage = 'boot-service';
    boot = await startBootService({ root, log: (l) => say(`[boot-service] ${l}`) });
    say(`[boot-service] listening on ${boot.socket}`);
    mark('boot-service');

    stage = 'image';
    let launch: Parameters<typeof clientLaunchOptions>[2];
    if (stock) {
      say('[image] an EFI stick for dut1: Debian\'s ipxe-amd64.efi + autoexec.ipxe (dut1\'s certificate and key), and an OVMF variable store with the farm CA as TlsCaCertificate');
      const t = Date.now();
      const stick = await buildStockImage(opened, DEMO_CLIENT, { signal: opts.signal, onProgress: (l) => say(`[image] ${l}`) });
      say(`[image] ${stick.image} (Debian iPXE ${stick.ipxeVersion}, ${((Date.now() - t) / 1000).toFixed(1)} s)`);
      launch = { efi: true, image: stick.image, efiVars: stick.vars };
    } else {
      say('[image] building an iPXE ISO for dut1 (TRUST = farm CA, CERT/PRIVKEY = dut1); a first build takes a minute or two');
      const built = await buildClientImage(opened, DEMO_CLIENT, {
        target: 'iso',
        signal: opts.signal,
        onProgress: (p) => { if (p.stage !== 'make') say(`[image] ${p.message}`); },
      });
      say(`[image] ${built.files[0]} (${(built.durationMs / 1000).toFixed(1)} s)`);
      launch = { image: built.files[0] };
    }
    mark('image');

    stage = 'qemu';
    say(`[qemu] booting dut1 headless${stock ? ' under OVMF' : ''} (restricted user networking: the guest reaches only the farm)`);
    // The same image, firmware and network choice as `ipxe-farm qemu dut1` and the editor's ▶: 10.0.2.100 becomes
    // restricted user networking whose only exits are the farm's two ports on 127.0.0.1.
    const q = await bootHeadless({
      ...(await clientLaunchOptions(opened, DEMO_CLIENT, launch)),
      headless: { timeoutMs: opts.timeoutMs ?? 240_000, marker: DEMO_MARKER, stopOnIpxeErrorAfterMs: 3000 },
      signal: opts.signal,
    });
    result.boot = { stages: q.stages, reason: q.reason, logFile: q.logFile, errors: q.errors };
    mark('qemu');
    if (q.reason !== 'marker') {
      const why = q.errors.length ? ` iPXE said error ${q.errors.map((e) => e.code).join(', ')} (\`ipxe-farm decode ${q.errors[0]!.code}\`).` : '';
      throw new FarmError(`The machine did not reach Linux (${q.reason}).${why} Serial log: ${q.logFile}`);
    }

    stage = 'check';
    result.cmdline = q.marker?.[1] ?? '';
    if (!result.cmdline.includes(`farm.s3=${secret}`) || !result.cmdline.includes(`farm.client=${DEMO_CLIENT}`)) {
      throw new FarmError('Linux booted, but its command line does not carry dut1\'s secret.');
    }
    mark('check');
    result.ok = true;
  } catch (err) {
    result.failedStage = stage;
    result.error = `${describeError(err)}\nWhat to check: ${STAGE_HELP[stage]}.`;
  } finally {
    if (opts.keep && result.ok) result.stop = stop;
    else await stop();
  }
  return result;
}
