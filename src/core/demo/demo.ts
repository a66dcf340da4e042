import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeError, FarmError } from '../errors';
import { initFarm } from '../farm/init';
import { loadFarm, updateFarm } from '../farm/load';
import { initCa, issueClient, issueCodesign, issueServer, signFile } from '../pki';
import { setSecret } from '../secrets/store';
import { generateNginxConfig } from '../nginx/generate';
import { createNginxRuntime } from '../nginx/createRuntime';
import type { NginxRuntime } from '../nginx/runtime';
import { startBootService, type BootService } from '../boot/service';
import { buildClientImage } from '../ipxe/build';
import { bootHeadless, type QemuResult } from '../qemu/launch';
import { clientLaunchOptions } from '../qemu/client';
import { run } from '../process/run';
import { freeLoopbackPort } from '../net/freePort';
import { demoKernel, DEMO_MARKER } from './kernel';

/**
 * The whole of the seed's workflow in one go, with the product's own core calls: farm, CA, certificates, a signed
 * kernel + initrd with a secret on the command line, nginx, the boot service, an iPXE image for dut1, and a QEMU boot
 * whose Linux prints the command line it was given. The guest reaches nothing but the farm: restricted user
 * networking relays 10.0.2.100 to the farm's loopback ports.
 */

export const DEMO_CLIENT = 'dut1';
/** The address the guest uses for the farm; restricted user networking forwards it to 127.0.0.1. */
export const DEMO_ADDRESS = '10.0.2.100';

export type DemoStage = 'farm' | 'pki' | 'kernel' | 'nginx' | 'boot-service' | 'image' | 'qemu' | 'check';

export const STAGE_HELP: Record<DemoStage, string> = {
  farm: 'check that the folder is writable and holds no farm yet',
  pki: 'see `ipxe-farm certs` in the farm folder',
  kernel: 'the demo kernel comes from Debian (apt-get download linux-image-amd64) and busybox-static: run `ipxe-farm doctor`',
  nginx: 'see `ipxe-farm nginx logs` and `ipxe-farm nginx test` in the farm folder',
  'boot-service': 'see the boot service lines above',
  image: 'the iPXE source tree and build tools: run `ipxe-farm doctor`; the make output is in the error above',
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
  timeoutMs?: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

export interface DemoResult {
  ok: boolean;
  root: string;
  runtime: 'podman' | 'local';
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

async function chooseRuntime(want: DemoOptions['runtime'], say: (s: string) => void): Promise<'podman' | 'local'> {
  if (want) return want;
  const info = await run('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}'], { timeout: 20_000 }).catch(() => undefined);
  if (info?.exitCode === 0) return 'podman';
  say('podman is not usable here, so nginx runs as a local process (the farm\'s "local" runtime).');
  return 'local';
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
    result.runtime = await chooseRuntime(opts.runtime, say);
    const [httpsPort, httpPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    await updateFarm(root, (raw) => {
      raw.server = { address: DEMO_ADDRESS, names: ['localhost', '127.0.0.1'], httpsPort, httpPort };
      raw.nginx = { ...(raw.nginx as object), runtime: result.runtime };
    });
    mark('farm');

    stage = 'pki';
    say('[pki] CA, server certificate (for 10.0.2.100), client certificate dut1, code-signing certificate');
    await initCa(root);
    await issueServer(root);
    await issueClient(root, DEMO_CLIENT);
    await issueCodesign(root);
    mark('pki');

    stage = 'kernel';
    say('[kernel] a Debian kernel and a busybox initramfs, signed for imgverify');
    const { layout } = await loadFarm(root);
    const k = await demoKernel();
    await fsp.copyFile(k.kernel, path.join(layout.files, 'vmlinuz'));
    await fsp.copyFile(k.initrd, path.join(layout.files, 'initrd.gz'));
    await signFile(root, path.join(layout.files, 'vmlinuz'));
    await signFile(root, path.join(layout.files, 'initrd.gz'));
    await setSecret(root, 's3key', secret);
    await updateFarm(root, (raw) => {
      raw.profiles = {
        linux: {
          description: 'The demo kernel; the secret travels only over mutual TLS',
          kernel: 'vmlinuz',
          initrds: ['initrd.gz'],
          cmdline: 'console=ttyS0 quiet farm.client={{client.name}} farm.s3={{secret.s3key}}',
          verify: true,
          extra: [],
        },
      };
      raw.clients = { [DEMO_CLIENT]: { profile: 'linux', macs: ['52:54:00:12:34:56'], vars: {} } };
    });
    mark('kernel');

    stage = 'nginx';
    await generateNginxConfig(root);
    const farm = (await loadFarm(root)).farm;
    nginx = createNginxRuntime(farm, layout, result.runtime);
    say(`[nginx] starting (${result.runtime}) on 127.0.0.1:${httpsPort} (HTTPS, client certificates required) and :${httpPort} (files)`);
    try {
      await nginx.up(opts.signal);
    } catch (err) {
      if (result.runtime !== 'podman' || opts.runtime) throw err;
      say(`[nginx] podman could not start nginx (${describeError(err).split('\n')[0]}); using the local runtime instead`);
      await nginx.down().catch(() => undefined);
      result.runtime = 'local';
      await updateFarm(root, (raw) => { raw.nginx = { ...(raw.nginx as object), runtime: 'local' }; });
      nginx = createNginxRuntime((await loadFarm(root)).farm, layout, 'local');
      await nginx.up(opts.signal);
    }
    mark('nginx');

    stage = 'boot-service';
    boot = await startBootService({ root, log: (l) => say(`[boot-service] ${l}`) });
    say(`[boot-service] listening on ${boot.socket}`);
    mark('boot-service');

    stage = 'image';
    say('[image] building an iPXE ISO for dut1 (TRUST = farm CA, CERT/PRIVKEY = dut1); a first build takes a minute or two');
    const built = await buildClientImage(root, DEMO_CLIENT, {
      target: 'iso',
      signal: opts.signal,
      onProgress: (p) => { if (p.stage !== 'make') say(`[image] ${p.message}`); },
    });
    say(`[image] ${built.files[0]} (${(built.durationMs / 1000).toFixed(1)} s)`);
    mark('image');

    stage = 'qemu';
    say('[qemu] booting dut1 headless (restricted user networking: the guest reaches only the farm)');
    // The same image, firmware and network choice as `ipxe-farm qemu dut1` and the editor's ▶: 10.0.2.100 becomes
    // restricted user networking whose only exits are the farm's two ports on 127.0.0.1.
    const q = await bootHeadless({
      ...(await clientLaunchOptions(root, DEMO_CLIENT, { image: built.files[0] })),
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
