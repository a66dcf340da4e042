import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { FarmError, UsageError } from '../errors';
import { ensureDir, writeFileAtomic } from '../fs/light';
import { type FarmHandle, archFacts, clientArch, type ImageTarget } from '../farm/light';
import { runOk } from '../process';
import { ipxeHex, pemToDer } from './identityHex';
import { chosenDebug, defaultTarget, type BuildProgress, type BuildResult } from './build';
import { makeEfiStick } from './fatImage';
import { readBuildInputs } from './inputs';
import { clientOutDir, imageFiles, writeManifest, type ImageRecord } from './manifest';
import { ensureSharedBase, ISOLINUX, isolinuxMissing, sharedScript, type SharedScriptChoices } from './shared';
import { locateIpxeSource, type IpxeSource } from './source';

/**
 * A client's image in about a second: a copy of the farm's shared iPXE (shared.ts) plus the client's identity script
 * (`set farm_client`, `set cert`, `set privkey`; iPXE ≥ 2.0 takes a client certificate at run time when none is
 * compiled in). EFI: a FAT stick with the binary as EFI/BOOT/BOOTX64.EFI or BOOTAA64.EFI and the identity beside it as
 * autoexec.ipxe. BIOS: an ISO whose ISOLINUX loads the shared ipxe.lkrn with the identity as its INITRD. The identity
 * is written only in a 0700 temporary folder and into the client's 0600 image, never into the iPXE tree.
 */

export const IDENTITY_NAME = 'identity.ipxe';

export function identityScript(client: string, certDer: Buffer, keyDer: Buffer): string {
  return [
    '#!ipxe',
    `# iPXE Farm: the identity of client ${client}. It holds the client's private key: keep this image private.`,
    `set farm_client ${client}`,
    `set cert ${ipxeHex(certDer)}`,
    `set privkey ${ipxeHex(keyDer)}`,
    '',
  ].join('\n');
}

const ISOLINUX_CFG = 'DEFAULT ipxe\nPROMPT 0\nTIMEOUT 0\nLABEL ipxe\n  KERNEL /ipxe.lkrn\n  INITRD /identity.ipxe\n';

export interface AssembleOptions {
  target?: ImageTarget;
  source?: IpxeSource;
  script?: SharedScriptChoices;
  debug?: string;
  signal?: AbortSignal;
  onProgress?: (p: BuildProgress) => void;
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export async function assembleClientImage(h: FarmHandle, client: string, opts: AssembleOptions = {}): Promise<BuildResult & { baseReused: boolean }> {
  const started = Date.now();
  const say = (stage: BuildProgress['stage'], message: string) => opts.onProgress?.({ stage, message });
  const { farm, layout } = h;
  const target = opts.target ?? defaultTarget(farm, client);
  if (target === 'usb') throw new UsageError('A USB image is built per client (ipxe-farm build CLIENT --target usb), not from the shared image.', 'Use --target iso or efi for the shared image.');
  const arch = clientArch(farm, client);
  const { cpu } = archFacts(arch);
  const debug = chosenDebug(opts.debug, farm);
  if (target === 'iso') {
    const missing = isolinuxMissing();
    if (missing) throw new FarmError(`A BIOS ISO cannot be assembled: ${missing}.`, 'Install isolinux and syslinux-common, or build per client (ipxe-farm build CLIENT).', 'ENOPROGRAM');
  }
  const inputs = await readBuildInputs(layout, client);
  for (const w of inputs.warnings) say('source', `Warning: ${w}`);
  const source = opts.source ?? (await locateIpxeSource(farm, layout.root, { signal: opts.signal }));
  const base = await ensureSharedBase(layout, farm, cpu, target === 'efi' ? 'efi' : 'lkrn', {
    source, caPem: inputs.caPem, caSha256: inputs.caSha256, script: opts.script, debug, signal: opts.signal, onProgress: (l) => say('make', l),
  });

  const outDir = clientOutDir(layout, client);
  await ensureDir(path.join(layout.ipxe, client), 0o755);
  await ensureDir(outDir, 0o700, true);
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-farm-assemble-'));
  const names = imageFiles(target);
  const written: string[] = [];
  try {
    await fsp.chmod(tmp, 0o700);
    const identity = path.join(tmp, IDENTITY_NAME);
    await fsp.writeFile(identity, identityScript(client, pemToDer(inputs.certPem), pemToDer(inputs.keyPem)), { mode: 0o600 });
    if (target === 'efi') {
      const fat = path.join(tmp, 'efi.img');
      await makeEfiStick(fat, { efi: base.file, cpu, autoexec: identity, signal: opts.signal });
      // The bare binary holds no key; it is kept beside the stick as the build path keeps ipxe.efi.
      await writeFileAtomic(path.join(outDir, names[0]!), await fsp.readFile(base.file), { mode: 0o600 });
      await writeFileAtomic(path.join(outDir, names[1]!), await fsp.readFile(fat), { mode: 0o600 });
      written.push(path.join(outDir, names[0]!), path.join(outDir, names[1]!));
    } else {
      const tree = path.join(tmp, 'iso');
      await ensureDir(path.join(tree, 'isolinux'));
      await fsp.copyFile(ISOLINUX.bin, path.join(tree, 'isolinux', 'isolinux.bin'));
      await fsp.copyFile(ISOLINUX.ldlinux, path.join(tree, 'isolinux', 'ldlinux.c32'));
      await fsp.writeFile(path.join(tree, 'isolinux', 'isolinux.cfg'), ISOLINUX_CFG);
      await fsp.copyFile(base.file, path.join(tree, 'ipxe.lkrn'));
      await fsp.copyFile(identity, path.join(tree, IDENTITY_NAME));
      const iso = path.join(tmp, 'ipxe.iso');
      await runOk('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-l', '-o', iso, '-b', 'isolinux/isolinux.bin', '-c', 'isolinux/boot.cat',
        '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', tree], { signal: opts.signal, timeout: 5 * 60_000 });
      await writeFileAtomic(path.join(outDir, names[0]!), await fsp.readFile(iso), { mode: 0o600 });
      written.push(path.join(outDir, names[0]!));
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }

  const script = sharedScript(farm, target === 'efi' ? 'efi' : 'lkrn', opts.script);
  const record: ImageRecord = {
    target,
    files: await Promise.all(written.map(async (f) => { const b = await fsp.readFile(f); return { name: path.basename(f), sha256: sha256(b), bytes: b.length }; })),
    source: { dir: source.dir, origin: source.origin, ref: source.ref, version: source.version, flavour: source.flavour, commit: source.commit, sourceId: source.sourceId },
    scriptSha256: sha256(script),
    cert: { serial: inputs.certSerial, sha256: inputs.certSha256, notAfter: inputs.certNotAfter },
    caSha256: inputs.caSha256,
    configSha256: base.record.configSha256,
    builtAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    options: { target, debug: debug ?? null, makeVars: base.record.makeVars, script: opts.script ?? {}, shared: true },
  };
  const manifestFile = await writeManifest(layout, client, record, script);
  say('done', `${client}: ${written.map((f) => path.relative(layout.root, f)).join(', ')} from the farm's shared ${cpu} image${base.reused ? '' : ' (built now)'} (0600: holds ${client}'s private key)`);
  return { client, target, files: written, manifestFile, record, durationMs: record.durationMs, warnings: [...source.warnings, ...inputs.warnings], baseReused: base.reused };
}
