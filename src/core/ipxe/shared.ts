import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import { UsageError } from '../errors';
import { ensureDir, writeFileAtomic, parseJsonRecord } from '../fs/light';
import { type FarmLayout, type Farm, CPU_ARCHES, type CpuArch } from '../farm/light';
import { run } from '../process';
import { localConfigHeaders } from './config';
import { ipxeVersionLine, makeFailure, makeTargetFor, NAMED_CONFIG, sharedScript, syncConfigHeaders } from './build';
import type { EmbeddedScriptOptions, SharedKind } from './script';
import type { IpxeSource } from './source';
import { withTreeLock } from './treeLock';

/**
 * The iPXE binary a farm's clients share, built once per farm, CPU and firmware: the farm CA as TRUST=, the shared
 * script as EMBED=, no CERT/PRIVKEY. It is kept in ipxe/.shared/<cpu>-<kind>/ with a record of what it was made
 * from and rebuilt only when one of those changes; each client's image adds its identity to a copy (assemble.ts).
 * No key ever reaches the iPXE tree this way.
 */


/** ipxe/.shared/CPU-KIND/base.json: what the shared binary next to it was made from. */
const SharedBaseRecordSchema = z.object({
  cpu: z.enum(CPU_ARCHES),
  kind: z.enum(['lkrn', 'efi'] as const satisfies readonly SharedKind[]),
  scriptSha256: z.string(),
  caSha256: z.string(),
  configSha256: z.string(),
  sourceId: z.string(),
  debug: z.string().nullable(),
  makeVars: z.array(z.string()),
  sha256: z.string(),
  builtAt: z.string(),
  durationMs: z.number(),
});
export type SharedBaseRecord = z.output<typeof SharedBaseRecordSchema>;

export interface SharedBase {
  file: string;
  record: SharedBaseRecord;
  /** False when this call ran make. */
  reused: boolean;
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export type SharedScriptChoices = Partial<Pick<EmbeddedScriptOptions, 'onFailure' | 'dhcpAttempts' | 'chainAttempts' | 'retryDelay'>>;

export { sharedScript, type SharedKind };

export function sharedBaseDir(layout: FarmLayout, cpu: CpuArch, kind: SharedKind): string {
  return path.join(layout.ipxe, '.shared', `${cpu}-${kind}`);
}

function makeTarget(cpu: CpuArch, kind: SharedKind): { target: string; vars: string[] } {
  if (kind === 'lkrn') {
    if (cpu !== 'x86_64') throw new UsageError(`There is no BIOS image for ${cpu}.`, 'Use its EFI image.');
    return { target: 'bin/ipxe.lkrn', vars: [] };
  }
  return makeTargetFor('efi', cpu);
}

export interface SharedBaseOptions {
  source: IpxeSource;
  caPem: string;
  caSha256: string;
  script?: SharedScriptChoices;
  debug?: string;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  jobs?: number;
}

/** What the shared binary was made from; undefined when missing, torn or not this version's: build it again. */
export async function readSharedBaseRecord(file: string): Promise<SharedBaseRecord | undefined> {
  const read = await fsp.readFile(file, 'utf8').then((t) => parseJsonRecord(t, SharedBaseRecordSchema, file), () => undefined);
  return read?.ok ? read.value : undefined;
}

/** The farm's shared binary for a CPU and firmware, built now only if what it is made from changed. */
export async function ensureSharedBase(layout: FarmLayout, farm: Farm, cpu: CpuArch, kind: SharedKind, opts: SharedBaseOptions): Promise<SharedBase> {
  const script = sharedScript(farm, kind, opts.script);
  const make = makeTarget(cpu, kind);
  const want = {
    cpu, kind,
    scriptSha256: sha256(script),
    caSha256: opts.caSha256,
    configSha256: sha256(JSON.stringify(localConfigHeaders(farm.ipxe))),
    sourceId: opts.source.sourceId,
    debug: opts.debug ?? null,
    makeVars: [...make.vars, ...opts.source.makeVars],
  };
  const dir = sharedBaseDir(layout, cpu, kind);
  const file = path.join(dir, kind === 'lkrn' ? 'ipxe.lkrn' : 'ipxe.efi');
  const recordFile = path.join(dir, 'base.json');
  const have = await readSharedBaseRecord(recordFile);
  if (have && fs.existsSync(file) && (Object.keys(want) as Array<keyof typeof want>).every((k) => JSON.stringify(have[k]) === JSON.stringify(want[k]))) {
    return { file, record: have, reused: true };
  }

  const started = Date.now();
  await ensureDir(dir, 0o755, true);
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-farm-shared-'));
  try {
    const scriptFile = path.join(tmp, 'farm.ipxe');
    const caFile = path.join(tmp, 'ca.crt');
    await fsp.writeFile(scriptFile, script, { mode: 0o600 });
    await fsp.writeFile(caFile, opts.caPem, { mode: 0o600 });
    const vars = [`CONFIG=${NAMED_CONFIG}`, `EMBED=${scriptFile}`, `TRUST=${caFile}`, ...want.makeVars];
    if (opts.debug) vars.push(`DEBUG=${opts.debug}`);
    const src = opts.source.srcDir;
    const jobs = Math.max(1, Math.min(opts.jobs ?? 2, os.availableParallelism()));
    const bytes = await withTreeLock(opts.source.dir, async () => {
      await syncConfigHeaders(src, farm.ipxe);
      opts.onProgress?.(`${ipxeVersionLine(opts.source)}: building the farm's shared ${make.target} (no client key in it)`);
      let output = '';
      const r = await run('make', ['-C', src, `-j${jobs}`, ...vars, make.target], {
        signal: opts.signal, group: true, timeout: 60 * 60_000,
        onOutput: (chunk) => { output = (output + chunk).slice(-64_000); },
      });
      if (r.exitCode !== 0) throw makeFailure(output, r.exitCode, `make -C ${src} ${make.target}`);
      return fsp.readFile(path.join(src, make.target));
    }, { signal: opts.signal, onWait: (m) => opts.onProgress?.(m) });
    await writeFileAtomic(file, bytes, { mode: 0o644 });
    const record: SharedBaseRecord = { ...want, sha256: sha256(bytes), builtAt: new Date().toISOString(), durationMs: Date.now() - started };
    await writeFileAtomic(recordFile, `${JSON.stringify(record, null, 2)}\n`);
    return { file, record, reused: false };
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/** ISOLINUX's files, from Debian's isolinux and syslinux-common packages. */
export const ISOLINUX = { bin: '/usr/lib/ISOLINUX/isolinux.bin', ldlinux: '/usr/lib/syslinux/modules/bios/ldlinux.c32' } as const;

export function isolinuxMissing(): string | undefined {
  for (const f of Object.values(ISOLINUX)) if (!fs.existsSync(f)) return `${f} is missing (apt-get install isolinux syslinux-common)`;
  return undefined;
}
