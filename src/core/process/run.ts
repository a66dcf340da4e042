import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { FarmError } from '../errors';
import { which } from './which';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string | Uint8Array;
  /** An open file the child gets as its stdin (fs/fileLock.ts hands `flock` the lock file this way). */
  stdinFd?: number;
  signal?: AbortSignal;
  /** Milliseconds; the process (group) is killed when it runs longer. */
  timeout?: number;
  /** Called with each chunk of stdout/stderr as it arrives (build logs, progress). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Own process group, killed whole on cancel or timeout (make and its compilers). */
  group?: boolean;
  /**
   * Keep the output in the result (default). Followers that run for hours (`podman logs -f`) pass false and read
   * through onOutput only: execa would otherwise hold every byte and stop the child at its buffer limit.
   */
  buffer?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The command line, for messages (never holds secrets: they travel by stdin or files). */
  command: string;
}

/** Debian package that provides each program we call, for "X is not installed" messages. */
export const PACKAGE_OF: Record<string, string> = {
  nginx: 'nginx',
  podman: 'podman',
  'qemu-system-x86_64': 'qemu-system-x86',
  make: 'make',
  flock: 'util-linux',
  gcc: 'gcc',
  git: 'git',
  socat: 'socat',
  openssl: 'openssl',
  mformat: 'mtools',
  mcopy: 'mtools',
  xorriso: 'xorriso',
  'mkfs.vfat': 'dosfstools',
  ipmitool: 'ipmitool',
  ser2net: 'ser2net',
  pdudaemon: 'pdudaemon',
  ipmi_sim: 'openipmi',
};

export function missingProgram(program: string): FarmError {
  const pkg = PACKAGE_OF[path.basename(program)];
  return new FarmError(
    `${program} is not installed (or not on PATH).`,
    pkg ? `Install it with: sudo apt-get install ${pkg}` : `Install ${program} and try again.`,
    'ENOPROGRAM',
  );
}

/**
 * Run a program to completion and return its output whatever the exit code; callers decide what a failure means.
 * A missing program becomes a FarmError naming the package; cancellation kills the whole process group.
 */
export async function run(program: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = start(program, args, opts);
  const r = await child;
  if (r.failed && (r as { code?: string }).code === 'ENOENT') throw missingProgram(program);
  if (r.isCanceled || (opts.signal?.aborted && r.failed)) {
    throw new FarmError(`${r.command} was cancelled.`, undefined, 'ECANCELED');
  }
  if (r.timedOut) throw new FarmError(`${r.command} did not finish within ${Math.round((opts.timeout ?? 0) / 1000)} s and was stopped.`, undefined, 'ETIMEDOUT');
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), command: r.command };
}

/** Run and insist on exit 0; the error carries the tail of stderr. */
export async function runOk(program: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(program, args, opts);
  if (r.exitCode !== 0) {
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n');
    throw new FarmError(`${r.command} failed (exit ${r.exitCode}):\n${tail}`, undefined, 'ECHILD');
  }
  return r;
}

/** Start a long-running program (nginx in the foreground, QEMU); the caller owns it. */
export function start(program: string, args: string[], opts: RunOptions = {}): ResultPromise<{ reject: false }> {
  if (!which(program, opts.env?.PATH ?? process.env.PATH)) throw missingProgram(program);
  const child = execa(program, args, {
    cwd: opts.cwd,
    env: opts.env,
    // execa's types list only fds 0-9; Node's spawn dups any open fd into the child.
    ...(opts.stdinFd !== undefined ? { stdin: opts.stdinFd as 0 } : { input: opts.input }),
    cancelSignal: opts.signal,
    timeout: opts.timeout,
    reject: false,
    detached: opts.group ?? false,
    buffer: opts.buffer ?? true,
    forceKillAfterDelay: 3000,
    stripFinalNewline: false,
  } as const) as unknown as ResultPromise<{ reject: false }>;
  if (opts.onOutput) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => opts.onOutput!(d, 'stdout'));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => opts.onOutput!(d, 'stderr'));
  }
  if (opts.group) {
    const killGroup = () => { if (child.pid) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
    opts.signal?.addEventListener('abort', killGroup, { once: true });
    if (opts.timeout) {
      const t = setTimeout(killGroup, opts.timeout);
      void child.finally(() => clearTimeout(t));
    }
  }
  return child;
}
