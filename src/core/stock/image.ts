import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureDir, writeFileAtomic } from '../fs/light';
import { type FarmHandle, archFacts, clientArch, type ClientArch } from '../farm/light';
import { readBuildInputs, makeEfiStick } from '../ipxe';
import { clientOutDir, clientEmbeddedScript, type EmbeddedScriptOptions, ipxeHex, pemToDer } from '../ipxe/light';
import { requireOvmf } from './ovmf';

export { ipxeHex, pemToDer };
import { ensureStockIpxe, stockEfiFor } from './debianPackage';
import { enrollTlsCaCertificates } from './efiVars';

/**
 * A client's EFI stick made from Debian's prebuilt iPXE, with no compiler (DESIGN.md §6): the stock binary of the
 * client's CPU as EFI/BOOT/BOOTX64.EFI or BOOTAA64.EFI, and beside it autoexec.ipxe giving the client its certificate
 * and key (`set cert`, `set privkey`) before the farm's usual script. A stock iPXE cannot be told to trust a CA from a
 * script, so the farm CA goes into the firmware's TlsCaCertificate variable: for QEMU, a copy of OVMF's variable store
 * (AAVMF's for arm64, its blank store formatted first) with it enrolled. Limits: no imgverify (pin kernel and initrd
 * hashes with sha256sum + iseq in the served script).
 */

export const STOCK_IMAGE = 'stock-efi.img';
export const STOCK_VARS = 'stock-vars.fd';
export const STOCK_RECORD = 'stock.json';

export interface StockImageOptions {
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  script?: Partial<Pick<EmbeddedScriptOptions, 'onFailure' | 'dhcpAttempts' | 'chainAttempts' | 'retryDelay'>>;
}

export interface StockImageResult {
  client: string;
  arch: ClientArch;
  image: string;
  vars: string;
  ipxeVersion: string;
  certSerial: string;
  caSha256: string;
}

/** The autoexec script: identity first, then the farm script every built image carries. */
export function stockAutoexec(embedded: string, certDer: Buffer, keyDer: Buffer): string {
  const [first, ...rest] = embedded.split('\n');
  return [
    first,
    '# Stock iPXE has no built-in client identity: it is set here (this file holds the private key, keep the stick private).',
    `set cert ${ipxeHex(certDer)}`,
    `set privkey ${ipxeHex(keyDer)}`,
    ...rest,
  ].join('\n');
}

export async function buildStockImage(h: FarmHandle, client: string, opts: StockImageOptions = {}): Promise<StockImageResult> {
  const { farm, layout } = h;
  const inputs = await readBuildInputs(layout, client);
  for (const w of inputs.warnings) opts.onProgress?.(`Warning: ${w}`);
  const embedded = clientEmbeddedScript(farm, client, opts.script);
  // An x86_64 client gets an x86_64 EFI stick whatever its firmware (Debian's BIOS build cannot be given a CA).
  const arch = clientArch(farm, client);
  const { cpu } = archFacts(arch);
  const stock = await ensureStockIpxe({ signal: opts.signal, onProgress: opts.onProgress });
  const efiBinary = stockEfiFor(stock, cpu);
  const ovmf = requireOvmf(cpu);

  const outDir = clientOutDir(layout, client);
  await ensureDir(path.join(layout.ipxe, client));
  await ensureDir(outDir, 0o700, true);
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-farm-stock-'));
  try {
    await fsp.chmod(tmp, 0o700);
    const autoexec = path.join(tmp, 'autoexec.ipxe');
    await fsp.writeFile(autoexec, stockAutoexec(embedded, pemToDer(inputs.certPem), pemToDer(inputs.keyPem)), { mode: 0o600 });
    // Built beside its final place, then renamed over it: a half-written stick never replaces a good one.
    const image = path.join(outDir, STOCK_IMAGE);
    const partial = path.join(outDir, `.${STOCK_IMAGE}.${process.pid}.tmp`);
    await fsp.rm(partial, { force: true });
    opts.onProgress?.(`Writing ${image}`);
    try {
      await makeEfiStick(partial, { efi: efiBinary, cpu, autoexec, signal: opts.signal });
      await fsp.rename(partial, image);
    } finally {
      await fsp.rm(partial, { force: true });
    }

    const vars = path.join(outDir, STOCK_VARS);
    const pristine = await fsp.readFile(ovmf.vars);
    await writeFileAtomic(vars, enrollTlsCaCertificates(pristine, [pemToDer(inputs.caPem)]), { mode: 0o600 });
    const result: StockImageResult = { client, arch, image, vars, ipxeVersion: stock.version, certSerial: inputs.certSerial, caSha256: inputs.caSha256 };
    await writeFileAtomic(path.join(outDir, STOCK_RECORD), `${JSON.stringify({ ...result, ovmfVars: ovmf.vars, ovmfCode: ovmf.code, builtAt: new Date().toISOString() }, null, 2)}\n`);
    return result;
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
