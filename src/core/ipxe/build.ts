import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { FarmError, UsageError } from '../errors';
import { ensureDir, writeFileAtomic } from '../fs/light';
import { openFarm, type FarmHandle, type Farm, type ImageTarget, archFacts, clientArch, type CpuArch } from '../farm/light';
import { run } from '../process';
import { HEADER_MARK, localConfigHeaders, type DhcpTuning } from './config';
import { clientEmbeddedScript, type EmbeddedScriptOptions, type SharedKind } from './script';
import { locateIpxeSource, type IpxeSource, type LocateOptions } from './source';
import { withTreeLock } from './treeLock';
import { makeEfiStick } from './fatImage';
import { readBuildInputs, type BuildInputs } from './inputs';
import { imageFiles, readManifest, writeManifest, type ImageRecord, clientOutDir } from './manifest';

export type BuildStage = 'source' | 'lock' | 'prepare' | 'make' | 'package' | 'done';

export interface BuildProgress {
  stage: BuildStage;
  message: string;
  /** One line of make's output, during the make stage. */
  line?: string;
}

export interface BuildOptions {
  target?: ImageTarget;
  /** iPXE DEBUG= value, e.g. "tls,x509:3"; default: the farm's ipxe.debug. */
  debug?: string;
  signal?: AbortSignal;
  onProgress?: (p: BuildProgress) => void;
  /** Script choices (failure action, attempts); the farm decides server, port and NTP. */
  script?: Partial<Pick<EmbeddedScriptOptions, 'onFailure' | 'dhcpAttempts' | 'chainAttempts' | 'retryDelay'>>;
  /** Where the iPXE tree comes from; default: locateIpxeSource with cloning allowed. */
  source?: IpxeSource;
  locate?: LocateOptions;
  /** make -jN (default 2: a build shares the machine with everything else). */
  jobs?: number;
}

export interface BuildResult {
  client: string;
  target: ImageTarget;
  /** Absolute paths of the images written (0600: they hold the client's private key). */
  files: string[];
  manifestFile: string;
  record: ImageRecord;
  durationMs: number;
  warnings: string[];
}

/** What make builds for each target, relative to the tree's src/. */
export const MAKE_TARGETS: Record<ImageTarget, string> = {
  iso: 'bin/ipxe.iso',
  usb: 'bin/ipxe.usb',
  efi: 'bin-x86_64-efi/ipxe.efi',
};

/**
 * What make builds for a target on a CPU, and the make variables that choose the compiler. arm64 is cross-built with
 * Debian's gcc-aarch64-linux-gnu (CROSS=, never ARCH=: the bin-arm64-efi/ folder name selects the architecture) as
 * the all-drivers ipxe.efi, as Debian builds its ipxe-arm64.efi: snp.efi, which only drives the firmware's own
 * network interfaces, found none under QEMU's AAVMF (the firmware had not connected virtio-net), so DHCP never ran.
 */
export function makeTargetFor(target: ImageTarget, cpu: CpuArch): { target: string; vars: string[] } {
  if (cpu === 'x86_64') return { target: MAKE_TARGETS[target], vars: [] };
  if (target !== 'efi') throw new FarmError(`An ${cpu} client boots UEFI only, so there is no ${target} image for it.`, 'Build its EFI image (--target efi).', 'EBADVALUE');
  return { target: 'bin-arm64-efi/ipxe.efi', vars: ['CROSS=aarch64-linux-gnu-'] };
}

/**
 * The image target a client gets when none is asked for: the farm's first target, as always, for a client without
 * an arch; EFI for an EFI client; a BIOS image (the first of iso/usb) for an x86_64-bios client.
 */
export function defaultTarget(farm: Farm, client: string): ImageTarget {
  const first = farm.ipxe.targets[0] ?? 'iso';
  const arch = farm.clients[client]?.arch;
  if (!arch) return first;
  if (archFacts(arch).firmware === 'efi') return 'efi';
  return farm.ipxe.targets.find((t) => t !== 'efi') ?? 'iso';
}

const DEBUG_PATTERN = /^[A-Za-z0-9_]+(?::\d+)?(?:,[A-Za-z0-9_]+(?::\d+)?)*$/;

/**
 * The DEBUG= value, checked before it reaches make's command line. A bad --debug is the command line's fault (usage);
 * a bad ipxe.debug is the farm file's (a bad value, exit 1).
 */
export function checkDebug(debug: string | undefined, from: 'option' | 'farm' = 'option'): string | undefined {
  const d = debug?.trim();
  if (!d) return undefined;
  if (!DEBUG_PATTERN.test(d)) {
    const fix = 'Use names with optional levels, comma-separated, e.g. tls,x509:3,certstore.';
    if (from === 'option') throw new UsageError(`The iPXE DEBUG value "${debug}" is not a list of object names.`, fix);
    throw new FarmError(`ipxe.debug "${debug}" in ipxe-farm.json is not a list of iPXE object names.`, fix, 'EBADVALUE');
  }
  return d;
}

/** opts.debug when given, else the farm's ipxe.debug: checked, with the blame on whichever it came from. */
export function chosenDebug(optionValue: string | undefined, farm: Farm): string | undefined {
  return optionValue !== undefined ? checkDebug(optionValue, 'option') : checkDebug(farm.ipxe.debug, 'farm');
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * iPXE's named local configuration: `make CONFIG=ipxefarm` reads config/local/ipxefarm/*.h after config/local/*.h.
 * The farm's settings therefore win without touching the user's own config/local headers.
 */
export const NAMED_CONFIG = 'ipxefarm';

/**
 * Put the farm's headers in config/local/ (ipxefarm/ and dhcp.h), touching them only when their content differs:
 * iPXE rebuilds every object that includes a config header when its mtime changes. An empty header (make creates
 * them empty) or one iPXE Farm wrote is replaced; one with anyone else's settings is left alone and the build refused.
 */
export async function syncConfigHeaders(src: string, tuning: DhcpTuning): Promise<boolean> {
  await ensureDir(path.join(src, 'config', 'local', NAMED_CONFIG));
  const stale: Array<[string, string]> = [];
  // Every header is checked before any is written: a refused build leaves the tree as it found it.
  for (const [name, content] of Object.entries(localConfigHeaders(tuning))) {
    const file = path.join(src, 'config', 'local', name);
    const current = await fsp.readFile(file, 'utf8').catch(() => undefined);
    if (current === content) continue;
    if (current !== undefined && current.trim() !== '' && !current.startsWith(HEADER_MARK)) {
      throw new FarmError(
        `${file} holds settings iPXE Farm did not write, and a farm build would replace them.`,
        `Move them elsewhere (or empty the file) so iPXE Farm can write its own; iPXE Farm only writes config/local/${NAMED_CONFIG}/ and config/local/dhcp.h.`,
        'ECONFIGHEADER',
      );
    }
    stale.push([file, content]);
  }
  for (const [file, content] of stale) await writeFileAtomic(file, content);
  return stale.length > 0;
}

/**
 * Files in a bin folder that hold (or were made from) the client's private key: the DER copy make writes, the
 * privkey object, the library archive that contains it, and every linked image. Deleted after each build so the key
 * lives on only in the 0600 image in the client's folder; the next build recreates them (it would anyway: the key
 * differs per client).
 */
async function scrubKeyMaterial(binDir: string): Promise<void> {
  let names: string[];
  try { names = await fsp.readdir(binDir); } catch { return; }
  const doomed = names.filter((n) => n === '.private_key.der' || /^privkey(\.dbg[^.]*)?\.o$/.test(n) || n === 'blib.a' || n.startsWith('ipxe.') || n.startsWith('snp.'));
  await Promise.all(doomed.map((n) => fsp.rm(path.join(binDir, n), { force: true })));
}

/** `openssl` that writes `rsa` output in the traditional PKCS#1 form the 2019 iPXE build reads. */
const TRADITIONAL_OPENSSL = '#!/bin/sh\nif [ "$1" = rsa ]; then shift; exec openssl rsa -traditional "$@"; fi\nexec openssl "$@"\n';

/** Explain the usual make failures in one sentence instead of a page of compiler output. */
export function makeFailure(output: string, exitCode: number, command: string): FarmError {
  const tail = output.trim().split('\n').slice(-15).join('\n');
  let fix = 'Read the make output above; a missing build tool is the usual cause (Debian: sudo apt-get install make gcc binutils perl liblzma-dev mtools isolinux syslinux-common xorriso).';
  if (/lzma\.h/.test(output)) fix = 'Install the LZMA headers: sudo apt-get install liblzma-dev';
  else if (/isolinux\.bin|ldlinux\.c32/.test(output)) fix = 'Install ISOLINUX: sudo apt-get install isolinux syslinux-common';
  else if (/xorrisofs|mkisofs|genisoimage/.test(output)) fix = 'Install an ISO writer: sudo apt-get install xorriso';
  else if (/multiple definition of|-Werror/.test(output)) fix = 'This looks like an old iPXE tree built with a new compiler: use iPXE v2.0.0, or set ipxe.source to a tree iPXE Farm recognises as the 2019 snapshot (it adds NO_WERROR=1 EXTRA_CFLAGS=-fcommon).';
  else if (/unable to load (Private )?Key|bad decrypt/i.test(output)) fix = 'The client key could not be read by openssl: re-issue the client certificate.';
  return new FarmError(`Building the iPXE image failed (exit ${exitCode}) in \`${command}\`:\n${tail}`, fix, 'EBUILD');
}

export function ipxeVersionLine(source: IpxeSource): string {
  return `iPXE ${source.version}${source.commit ? ` (${source.commit.slice(0, 12)})` : ''} at ${source.dir}`;
}

/**
 * Build one client's image. The farm CA becomes TRUST=, the client's certificate and key CERT=/PRIVKEY=, and the
 * farm's script EMBED=. The PEM copies handed to make live in a 0700 temp folder that is deleted afterwards, and
 * the key material make leaves in bin/ is scrubbed, so the only lasting copy of the key is the 0600 image.
 */
export async function buildClientImage(h: FarmHandle, client: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const started = Date.now();
  const progress = (stage: BuildStage, message: string, line?: string) => opts.onProgress?.({ stage, message, line });
  const { farm, layout } = h;
  const target: ImageTarget = opts.target ?? defaultTarget(farm, client);
  // The CLI refuses an unknown --target as a usage error before this; here it is a bad value from a caller.
  if (!(target in MAKE_TARGETS)) throw new FarmError(`Unknown image target "${String(target)}".`, 'Use iso, usb or efi.', 'EBADVALUE');
  const cpu = archFacts(clientArch(farm, client)).cpu;
  const make = makeTargetFor(target, cpu);
  const debug = chosenDebug(opts.debug, farm);
  const script = clientEmbeddedScript(farm, client, opts.script);
  const inputs = await readBuildInputs(layout, client);

  progress('source', 'Locating the iPXE source tree');
  const source = opts.source ?? (await locateIpxeSource(farm, layout.root, { ...opts.locate, signal: opts.signal, onProgress: (l) => progress('source', l.trim()) }));
  const warnings = [...source.warnings, ...inputs.warnings];
  for (const w of warnings) progress('source', `Warning: ${w}`);

  const outDir = clientOutDir(layout, client);
  await ensureDir(path.join(layout.ipxe, client), 0o755);
  await ensureDir(outDir, 0o700, true);

  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-farm-build-'));
  try {
    await fsp.chmod(tmp, 0o700);
    const files = {
      ca: path.join(tmp, 'ca.crt'),
      cert: path.join(tmp, 'client.crt'),
      key: path.join(tmp, 'client.key'),
      script: path.join(tmp, 'farm.ipxe'),
      openssl: path.join(tmp, 'openssl-traditional'),
    };
    await fsp.writeFile(files.ca, inputs.caPem, { mode: 0o600 });
    await fsp.writeFile(files.cert, inputs.certPem, { mode: 0o600 });
    await fsp.writeFile(files.key, inputs.keyPem, { mode: 0o600 });
    await fsp.writeFile(files.script, script, { mode: 0o600 });
    const makeVars = [`CONFIG=${NAMED_CONFIG}`, `EMBED=${files.script}`, `TRUST=${files.ca}`, `CERT=${files.cert}`, `PRIVKEY=${files.key}`, ...make.vars, ...source.makeVars];
    if (debug) makeVars.push(`DEBUG=${debug}`);
    if (source.needsTraditionalKey) {
      await fsp.writeFile(files.openssl, TRADITIONAL_OPENSSL, { mode: 0o700 });
      makeVars.push(`OPENSSL=${files.openssl}`);
    }
    const makeTarget = make.target;
    const jobs = Math.max(1, Math.min(opts.jobs ?? 2, os.availableParallelism()));

    progress('lock', `Taking the build lock of ${source.dir}`);
    const built = await withTreeLock(source.dir, async () => {
      const headersChanged = await syncConfigHeaders(source.srcDir, farm.ipxe);
      progress('prepare', `${ipxeVersionLine(source)}: building ${makeTarget} for ${client}${headersChanged ? ' (config headers changed: the objects using them are rebuilt)' : ''}`);
      const binDir = path.join(source.srcDir, path.dirname(makeTarget));
      const args = ['-c', 'umask 077 && exec "$@"', 'sh', 'make', '-C', source.srcDir, `-j${jobs}`, ...makeVars, makeTarget];
      let output = '';
      let pending = '';
      try {
        progress('make', `make ${makeTarget}`);
        const r = await run('sh', args, {
          signal: opts.signal,
          group: true,
          timeout: 60 * 60_000,
          onOutput: (chunk) => {
            output = (output + chunk).slice(-64_000);
            pending += chunk;
            const lines = pending.split('\n');
            pending = lines.pop() ?? '';
            for (const l of lines) if (l.trim()) progress('make', l.trim(), l);
          },
        });
        if (r.exitCode !== 0) throw makeFailure(output, r.exitCode, `make -C ${source.srcDir} ${makeTarget}`);
        progress('package', `Copying the image to ${outDir}`);
        const produced = path.join(source.srcDir, makeTarget);
        const written: string[] = [];
        const names = imageFiles(target);
        const main = path.join(outDir, names[0]!);
        await writeFileAtomic(main, await fsp.readFile(produced), { mode: 0o600 });
        written.push(main);
        if (target === 'efi') {
          const fat = path.join(tmp, 'efi.img');
          await makeEfiStick(fat, { efi: produced, cpu, signal: opts.signal });
          const out = path.join(outDir, names[1]!);
          await writeFileAtomic(out, await fsp.readFile(fat), { mode: 0o600 });
          written.push(out);
        }
        return written;
      } finally {
        await scrubKeyMaterial(binDir);
      }
    }, { signal: opts.signal, onWait: (m) => progress('lock', m) });

    const record: ImageRecord = {
      target,
      files: await Promise.all(built.map(async (f) => ({ name: path.basename(f), sha256: sha256(await fsp.readFile(f)), bytes: (await fsp.stat(f)).size }))),
      source: { dir: source.dir, origin: source.origin, ref: source.ref, version: source.version, flavour: source.flavour, commit: source.commit, sourceId: source.sourceId },
      scriptSha256: sha256(script),
      cert: { serial: inputs.certSerial, sha256: inputs.certSha256, notAfter: inputs.certNotAfter },
      caSha256: inputs.caSha256,
      configSha256: sha256(JSON.stringify(localConfigHeaders(farm.ipxe))),
      builtAt: new Date().toISOString(),
      durationMs: Date.now() - started,
      options: { target, debug: debug ?? null, makeVars: [...make.vars, ...source.makeVars], script: opts.script ?? {} },
    };
    const manifestFile = await writeManifest(layout, client, record, script);
    progress('done', `${client}: ${built.map((f) => path.relative(layout.root, f)).join(', ')} (0600: the image holds ${client}'s private key)`);
    return { client, target, files: built, manifestFile, record, durationMs: record.durationMs, warnings };
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/** The script of the image a farm's clients share (shared.ts builds it; defined here so imageState needs no cycle). */
export function sharedScript(farm: Farm, kind: SharedKind, choices: Partial<EmbeddedScriptOptions> = {}): string {
  // No client's MACs: the image is everyone's, so DHCP tries every interface (a client named "shared" changes nothing).
  return clientEmbeddedScript(farm, 'shared', { ...choices, macs: [], shared: kind });
}

export type ImageState = 'built' | 'stale' | 'missing';

export interface ImageStatus {
  client: string;
  target: ImageTarget;
  state: ImageState;
  /** Why it is stale or missing, one short sentence each. */
  reasons: string[];
  record?: ImageRecord;
}

/**
 * Is the client's image current? Stale when the script the farm would embed now, the client certificate, the CA or
 * the iPXE source differ from what the image was built with; missing when there is no image (or it was deleted).
 * The source is only compared when it can be found without cloning.
 */
export async function imageState(h: FarmHandle, client: string, target?: ImageTarget, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<ImageStatus> {
  const { farm, layout } = h;
  const t: ImageTarget = target ?? defaultTarget(farm, client);
  const manifest = await readManifest(layout, client);
  const record = manifest?.images[t];
  if (!record) return { client, target: t, state: 'missing', reasons: [`No ${t} image has been built for ${client}.`] };
  for (const f of record.files) {
    try {
      await fsp.access(path.join(clientOutDir(layout, client), f.name));
    } catch {
      return { client, target: t, state: 'missing', reasons: [`${f.name} was deleted from ${clientOutDir(layout, client)}.`], record };
    }
  }
  const reasons: string[] = [];
  let script: string | undefined;
  try { script = record.options.shared ? sharedScript(farm, t === 'efi' ? 'efi' : 'lkrn', record.options.script) : clientEmbeddedScript(farm, client, record.options.script); } catch (err) { reasons.push(`The embedded script cannot be made any more: ${(err as Error).message}`); }
  if (script !== undefined && sha256(script) !== record.scriptSha256) reasons.push('The embedded script changed (server address, port, NTP or the client\'s MACs in ipxe-farm.json).');
  let inputs: BuildInputs | undefined;
  try { inputs = await readBuildInputs(layout, client); } catch (err) { reasons.push((err as FarmError).message); }
  if (inputs) {
    if (inputs.certSha256 !== record.cert.sha256) reasons.push(`The client certificate changed (serial ${record.cert.serial} → ${inputs.certSerial}).`);
    if (inputs.caSha256 !== record.caSha256) reasons.push('The farm CA changed.');
  }
  if (sha256(JSON.stringify(localConfigHeaders(farm.ipxe))) !== record.configSha256) reasons.push('The iPXE build options changed (ipxe.proxyDhcp or ipxe.fastDhcpRetry in ipxe-farm.json, or this iPXE Farm version).');
  try {
    const source = await locateIpxeSource(farm, layout.root, { clone: false, env: opts.env });
    if (source.dir !== record.source.dir || source.sourceId !== record.source.sourceId) {
      reasons.push(`The iPXE source changed (${record.source.version} at ${record.source.dir} → ${source.version} at ${source.dir}).`);
    }
  } catch { /* no tree to compare with: the image still works, so it is not stale for that */ }
  return { client, target: t, state: reasons.length ? 'stale' : 'built', reasons, record };
}


/**
 * imageState for a caller that holds only a folder: the editor's background poller, which runs core only when a
 * file it stats changed and so must read the farm as it is now rather than the snapshot it was handed.
 */
export async function imageStateAt(root: string, client: string, target?: ImageTarget, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<ImageStatus> {
  return imageState(await openFarm(root, { env: opts.env }), client, target, opts);
}
