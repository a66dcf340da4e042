import * as fs from 'node:fs';

/**
 * CPU time (user + system, ms) used so far by processes and their children, from /proc. On a machine other work shares,
 * req/s measures the machine; CPU per request measures the program, which is what the boot targets are about.
 */
const TICK_MS = 10; // USER_HZ is 100 on Linux

function stat(pid: number): { ppid: number; ms: number; sysMs: number } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ms: (Number(f[11]) + Number(f[12])) * TICK_MS, sysMs: Number(f[12]) * TICK_MS };
  } catch {
    return undefined;
  }
}

/** The pids and all their descendants alive now. */
export function processTree(roots: number[]): number[] {
  const all = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map<number, number>();
  for (const p of all) { const s = stat(p); if (s) parent.set(p, s.ppid); }
  const out = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, pp] of parent) if (!out.has(p) && out.has(pp)) { out.add(p); grew = true; }
  }
  return [...out];
}

export function cpuMs(pids: number[]): number {
  return pids.reduce((sum, p) => sum + (stat(p)?.ms ?? 0), 0);
}

/** The part of cpuMs spent in the kernel (stime): system calls, and the wake-ups of a process that sleeps between requests. */
export function sysMs(pids: number[]): number {
  return pids.reduce((sum, p) => sum + (stat(p)?.sysMs ?? 0), 0);
}
