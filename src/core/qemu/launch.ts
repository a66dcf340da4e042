import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { FarmError } from '../errors';
import { farmLayout, type Accel } from '../farm/light';
import { ensureDir } from '../fs/light';
import { start } from '../process';
import { resolveAccel } from './accel';
import { qemuArgs, qemuProgram, QemuSpec, shellLine } from './args';
import { requireOvmf } from '../stock/light';
import { decodeIpxeError, type IpxeErrorInfo } from '../ipxe/light';
import { LOG_MASK, maskValues, StreamMasker, readSecrets } from '../secrets/light';
import { BootStages, BootStageTracker, Download, IpxeErrorSeen } from './stages';

/**
 * One QEMU boot whose serial console streams to whoever listens (the editor's Pseudoterminal, the CLI, a test), is
 * kept in a log under the farm's runtime folder, and, when headless, ends by itself: on a marker, on an iPXE error,
 * when the guest powers off, or at a timeout.
 */

export interface LaunchOptions {
  /** The farm whose runtime folder keeps the serial log; or `logDir` directly (benchmarks, tests without a farm). */
  root?: string;
  logDir?: string;
  /** Names the log file: usually the client. */
  name: string;
  spec: Omit<QemuSpec, 'accel' | 'ovmf'> & { accel: Accel; ovmf?: QemuSpec['ovmf'] };
  /** For EFI: the variable store to start from (a pristine OVMF_VARS, or one with the farm CA enrolled). */
  efiVars?: string;
  headless?: {
    timeoutMs: number;
    /** Stop as soon as the console shows this (e.g. the test kernel's marker line). */
    marker?: RegExp;
    /** Stop this long after the first iPXE error code (the console has said why; iPXE may retry forever). */
    stopOnIpxeErrorAfterMs?: number;
  };
  /**
   * Values masked besides the farm's own secrets, which are always masked when `root` is given: in the log file and in
   * the live stream every listener (the CLI's console, the editor's terminal) receives.
   */
  redact?: string[];
  signal?: AbortSignal;
  /** The QEMU binary (the editor's ipxeFarm.qemuPath setting); default the guest CPU's qemu-system-* on PATH. */
  program?: string;
  /** Linux marker for the boot-stage timing (default: the marker, if given). */
  linuxMarker?: RegExp;
}

export type EndReason = 'marker' | 'ipxe-error' | 'exited' | 'timeout' | 'killed';

export interface QemuResult {
  reason: EndReason;
  exitCode: number | undefined;
  /** The marker's match (index 0 the whole match, then its groups). */
  marker?: string[];
  stages: BootStages;
  downloads: Download[];
  /** Every iPXE error code the console showed, with its meaning, likely cause and fix. */
  errors: Array<IpxeErrorSeen & { decoded: IpxeErrorInfo }>;
  /** Console text without escape sequences. */
  output: string;
  logFile: string;
  elapsedMs: number;
  command: string;
  accelNote?: string;
}

export interface QemuHandle {
  readonly pid: number | undefined;
  readonly command: string;
  readonly logFile: string;
  readonly accel: 'kvm' | 'tcg';
  /** Subscribe to console output; returns the unsubscribe function. */
  onData(listener: (data: string) => void): () => void;
  /** Type into the console (keys for iPXE's Ctrl-B shell, Ctrl-A x to quit QEMU). */
  write(input: string): void;
  kill(): void;
  /** Console text so far, without escape sequences. */
  output(): string;
  readonly done: Promise<QemuResult>;
}

function hostCpu(): string {
  return process.arch === 'x64' ? 'x86_64' : process.arch;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** A secret file's one-time URL as iPXE prints it while downloading (boot/tokens.ts: 43 base64url characters). */
const ONE_TIME_TOKEN = /(\/secret\/)[A-Za-z0-9_-]{43}/g;

/** Every value this boot must never show: the farm's secrets (all of them: any may be in a script) and `redact`. */
async function secretValues(opts: LaunchOptions): Promise<string[]> {
  const farm = opts.root ? Object.values(await readSecrets(opts.root)) : [];
  return [...farm, ...(opts.redact ?? [])].filter((v) => v.length > 0);
}

export async function launchQemu(opts: LaunchOptions): Promise<QemuHandle> {
  const dir = opts.logDir ?? (opts.root ? path.join(farmLayout(opts.root).runtime, 'qemu') : undefined);
  if (!dir) throw new FarmError('launchQemu needs a farm root or a log folder.', undefined, 'EINVAL');
  await ensureDir(dir, 0o700);
  const base = path.join(dir, `${opts.name}-${stamp()}`);
  const logFile = `${base}.serial.log`;

  // KVM runs only the host's own CPU: another architecture's guest is emulated.
  const foreign = (opts.spec.cpu ?? 'x86_64') !== hostCpu();
  const { accel, note } = foreign ? { accel: 'tcg' as const, note: undefined } : await resolveAccel(opts.spec.accel);
  let ovmf = opts.spec.ovmf;
  let varsCopy: string | undefined;
  if (opts.spec.firmware === 'efi') {
    const fw = requireOvmf(opts.spec.cpu);
    // Each run writes to its own copy: OVMF stores boot entries in it, and the pristine file must stay pristine.
    varsCopy = `${base}.vars.fd`;
    await fsp.copyFile(opts.efiVars ?? fw.vars, varsCopy);
    await fsp.chmod(varsCopy, 0o600);
    ovmf = { code: ovmf?.code ?? fw.code, vars: varsCopy };
  }
  const args = qemuArgs({ ...opts.spec, accel, ovmf });
  const program = opts.program ?? qemuProgram(opts.spec.cpu);
  const secrets = await secretValues(opts);
  // Tokens are spent once fetched, but one printed before a failed fetch stays valid for its TTL: keep them all out.
  const redact = (text: string) => maskValues(text, secrets, LOG_MASK).replace(ONE_TIME_TOKEN, '$1«token»');
  // Shown in the CLI, the editor's terminal and output channel: a kernel command line in -append is masked too.
  const command = redact(shellLine(program, args));

  // The log may hold a client's command line: readable by this user only, like the keys.
  const log = fs.createWriteStream(logFile, { mode: 0o600, flags: 'w' });
  const live = new StreamMasker(secrets);
  const tracker = new BootStageTracker(opts.linuxMarker ?? opts.headless?.marker);
  const listeners = new Set<(d: string) => void>();
  const t0 = Date.now();
  let reason: EndReason | undefined;
  let markerMatch: string[] | undefined;

  const child = start(program, args, { group: true, signal: opts.signal });
  const killGroup = () => {
    if (child.pid) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  };
  const end = (why: EndReason) => {
    reason ??= why;
    killGroup();
  };
  let errorTimer: NodeJS.Timeout | undefined;
  let timeout: NodeJS.Timeout | undefined;
  if (opts.headless) timeout = setTimeout(() => end('timeout'), opts.headless.timeoutMs);

  // The kept log is the console as a person reads it: whole lines (a secret split across two chunks is still found and
  // redacted), no escape sequences, lines the BIOS console wrapped joined again, and after a line with an iPXE
  // error code, what that code means and how to fix it.
  let logged = 0;
  let explained = 0;
  const writeLog = (final: boolean) => {
    const plain = tracker.plain;
    const cut = final ? plain.length : plain.lastIndexOf('\n') + 1;
    if (cut <= logged) return;
    let text = plain.slice(logged, cut);
    logged = cut;
    while (explained < tracker.errors.length && tracker.errorEnds[explained]! <= cut) {
      const e = tracker.errors[explained++]!;
      const d = decodeIpxeError(e.code);
      text += `${text.endsWith('\n') ? '' : '\n'}[ipxe-farm] ${d.code}: ${d.message}.${d.cause ? ` Likely cause: ${d.cause}` : ''}${d.fix ? ` Fix: ${d.fix}` : ''}\n`;
    }
    log.write(redact(text));
  };
  let markerFrom = 0;
  const onChunk = (d: string) => {
    tracker.feed(d, Date.now() - t0);
    writeLog(false);
    const shown = live.push(d);
    if (shown) for (const l of listeners) l(shown);
    const h = opts.headless;
    if (!h || reason) return;
    if (h.marker && !markerMatch) {
      const text = tracker.plain.slice(markerFrom);
      const m = h.marker.exec(text);
      // Wait for the end of the marker's line so a test sees all of it.
      if (m && text.indexOf('\n', m.index) >= 0) {
        markerMatch = [...m];
        end('marker');
        return;
      }
      if (!m) markerFrom = Math.max(0, tracker.plain.length - 1024);
    }
    if (h.stopOnIpxeErrorAfterMs !== undefined && tracker.errors.length && !errorTimer) {
      errorTimer = setTimeout(() => end('ipxe-error'), h.stopOnIpxeErrorAfterMs);
    }
  };
  child.stdout?.setEncoding('utf8').on('data', onChunk);
  child.stderr?.setEncoding('utf8').on('data', onChunk);
  opts.signal?.addEventListener('abort', () => end('killed'), { once: true });

  const done = (async (): Promise<QemuResult> => {
    const r = await child;
    clearTimeout(timeout);
    clearTimeout(errorTimer);
    writeLog(true);
    const rest = live.flush();
    if (rest) for (const l of listeners) l(rest);
    await new Promise<void>((resolve) => log.end(resolve));
    if (varsCopy) await fsp.rm(varsCopy, { force: true });
    if (!reason && opts.headless?.marker) {
      // The guest may power off right after printing the marker, before its line ended.
      const m = opts.headless.marker.exec(tracker.plain);
      if (m) { markerMatch = [...m]; reason = 'marker'; }
    }
    return {
      reason: reason ?? 'exited',
      exitCode: r.exitCode,
      marker: markerMatch,
      stages: { ...tracker.stages },
      downloads: [...tracker.downloads],
      errors: tracker.errors.map((e) => ({ ...e, decoded: decodeIpxeError(e.code) })),
      output: tracker.plain,
      logFile,
      elapsedMs: Date.now() - t0,
      command,
      accelNote: note,
    };
  })();

  return {
    pid: child.pid,
    command,
    logFile,
    accel,
    onData(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    write(input) {
      child.stdin?.write(input);
    },
    kill() {
      end('killed');
    },
    output: () => tracker.plain,
    done,
  };
}

/** Launch, wait, and return the result: the headless form the CLI's --headless, the tests and the benchmark use. */
export async function bootHeadless(opts: LaunchOptions & { headless: NonNullable<LaunchOptions['headless']> }): Promise<QemuResult> {
  const h = await launchQemu(opts);
  try {
    return await h.done;
  } finally {
    h.kill();
  }
}
