import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { which } from '../process/light';
import { run } from '../process';

/**
 * Can podman start a container here? `podman info` answers on machines where every `podman run` fails (a sandbox
 * refusing setrlimit, crun lacking a kernel feature), so the probe starts a real one: an empty root folder and a
 * command that is not in it. Reaching "not found" means the OCI runtime created the container and got as far as
 * exec, which is all the farm needs; no image, no registry, nothing left behind.
 */

export type PodmanProblem = 'missing' | 'rlimits' | 'crun' | 'other';

export interface PodmanProbe {
  ok: boolean;
  /** One line: what podman did. */
  detail: string;
  problem?: PodmanProblem;
  /** The containers.conf that fixes `problem`, and where to put it. */
  fix?: { file: string; text: string; install?: string };
}

const PROBE_COMMAND = '/ipxe-farm-probe';

/** Hard limits of this process (what a container may ask for), from /proc/self/limits. */
export function hardLimits(text = readLimits()): { nofile?: number; nproc?: number } {
  const hard = (label: string) => {
    const m = new RegExp(`^${label}\\s+\\S+\\s+(\\S+)`, 'm').exec(text);
    return m && /^\d+$/.test(m[1]!) ? Number(m[1]) : undefined;
  };
  return { nofile: hard('Max open files'), nproc: hard('Max processes') };
}

function readLimits(): string {
  try { return fs.readFileSync('/proc/self/limits', 'utf8'); } catch { return ''; }
}

/** Where podman reads its user settings: root's are machine-wide, anyone else's are per user. */
export function containersConfPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONTAINERS_CONF) return env.CONTAINERS_CONF;
  if (process.getuid?.() === 0) return '/etc/containers/containers.conf';
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'containers', 'containers.conf');
}

/**
 * DESIGN.md §4: runc instead of crun, and ulimits no higher than the hard limits (podman's default asks for more
 * open files than a sandbox allows, and setrlimit is refused).
 */
export function containersConfText(limits = hardLimits()): string {
  const nofile = limits.nofile ?? 1024;
  const nproc = Math.min(limits.nproc ?? 32768, 32768);
  return [
    '# Written for iPXE Farm (`ipxe-farm doctor`): podman could not start containers on this machine.',
    '[containers]',
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
    '',
    '[engine]',
    'runtime = "runc"',
    '',
  ].join('\n');
}

export function classifyPodmanFailure(output: string): PodmanProblem {
  if (/rlimit/i.test(output)) return 'rlimits';
  if (/crun/i.test(output)) return 'crun';
  return 'other';
}

export async function probePodman(opts: { podman?: string; signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {}): Promise<PodmanProbe> {
  const podman = opts.podman ?? 'podman';
  if (!which(podman)) return { ok: false, problem: 'missing', detail: 'podman is not installed' };
  const empty = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-farm-podman-probe-'));
  try {
    const r = await run(podman, ['run', '--rm', '--network', 'none', '--rootfs', empty, PROBE_COMMAND], { signal: opts.signal, timeout: 90_000, env: opts.env });
    const out = `${r.stderr}\n${r.stdout}`.trim();
    if (r.exitCode === 127 || (r.exitCode !== 0 && /not found|no such file/i.test(out) && out.includes(PROBE_COMMAND))) {
      return { ok: true, detail: 'podman starts containers here' };
    }
    const last = out.split('\n').filter(Boolean).pop() ?? `exit ${r.exitCode}`;
    const problem = classifyPodmanFailure(out);
    const detail = `podman cannot start containers here: ${last.replace(/^Error:\s*/, '')}`;
    if (problem === 'other') return { ok: false, problem, detail };
    return {
      ok: false,
      problem,
      detail,
      fix: { file: containersConfPath(opts.env), text: containersConfText(), install: which('runc') ? undefined : 'sudo apt-get install -y runc' },
    };
  } finally {
    await fsp.rm(empty, { recursive: true, force: true });
  }
}

/** The fix as the CLI and doctor print it. */
export function formatPodmanFix(probe: PodmanProbe): string | undefined {
  if (!probe.fix) return undefined;
  return [
    ...(probe.fix.install ? [`Install runc first: ${probe.fix.install}`] : []),
    `Put this in ${probe.fix.file} (or in any file named by CONTAINERS_CONF=FILE), then run \`ipxe-farm doctor\` again:`,
    ...probe.fix.text.trimEnd().split('\n').map((l) => `    ${l}`),
  ].join('\n');
}
