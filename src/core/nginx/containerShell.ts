import { randomBytes } from 'node:crypto';
import { start } from '../process';

/** Quote one argument for a POSIX shell. */
export function shQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * One long-lived `podman exec -i NAME sh` that runs commands one at a time. A `podman exec` costs 130-200 ms (more on
 * a busy machine) before the command even starts; a save-triggered `nginx -t` through this shell costs what nginx
 * itself takes, so a broken save's diagnostics arrive well within the 300 ms the editor aims for.
 */
export class ContainerShell {
  private child?: ReturnType<typeof start>;
  private buffer = '';
  private waiting?: { marker: string; resolve: (r: { exitCode: number; output: string }) => void; reject: (e: Error) => void };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly podman: string, private readonly container: string) {}

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && !this.child.killed;
  }

  private open(): void {
    const child = start(this.podman, ['exec', '-i', this.container, '/bin/sh'], {
      onOutput: (chunk) => { this.buffer += chunk; this.settle(); },
      buffer: false, // read through onOutput only, so a shell kept for a whole editor session holds no history
    });
    this.child = child;
    this.buffer = '';
    void child.then((r) => {
      if (this.child === child) this.child = undefined;
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(new Error(`the shell in ${this.container} ended (exit ${r.exitCode}): ${this.buffer.trim().split('\n').slice(-3).join(' | ')}`));
    });
  }

  private settle(): void {
    const w = this.waiting;
    if (!w) return;
    const m = new RegExp(`${w.marker}=(\\d+)\\n`).exec(this.buffer);
    if (!m) return;
    const output = this.buffer.slice(0, m.index);
    this.buffer = this.buffer.slice(m.index + m[0].length);
    this.waiting = undefined;
    w.resolve({ exitCode: Number(m[1]), output });
  }

  /** Run argv in the container; stdout and stderr come back together. Rejects when the shell cannot run it. */
  run(argv: string[], timeoutMs = 30_000): Promise<{ exitCode: number; output: string }> {
    const job = this.queue.then(() => new Promise<{ exitCode: number; output: string }>((resolve, reject) => {
      if (!this.alive) this.open();
      const marker = `__IPXE_FARM_${randomBytes(6).toString('hex')}`;
      const timer = setTimeout(() => { this.close(); reject(new Error(`the shell in ${this.container} did not answer within ${timeoutMs} ms`)); }, timeoutMs);
      this.waiting = {
        marker,
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.child!.stdin?.write(`${argv.map(shQuote).join(' ')} 2>&1 </dev/null; rc=$?; echo; echo "${marker}=$rc"\n`);
    }));
    this.queue = job.catch(() => undefined);
    return job;
  }

  close(): void {
    const c = this.child;
    this.child = undefined;
    if (c) { c.stdin?.end(); c.kill('SIGTERM'); }
  }
}
