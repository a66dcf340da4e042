import { runDemo, type DemoStage } from '../../core/demo/demo';
import { UsageError } from '../../core/errors';
import { formatStages } from '../../core/qemu/stages';
import type { CliCommand } from '../framework';

const ORDER: DemoStage[] = ['farm', 'pki', 'kernel', 'nginx', 'boot-service', 'image', 'qemu', 'check'];

export const demoCommands: CliCommand[] = [
  {
    name: 'demo',
    args: '[DIR]',
    summary: 'The whole secure boot in one go: CA, nginx, boot service, iPXE image, QEMU boot of a real kernel over mTLS.',
    details: 'Prints PASS with the time of each stage, or which stage failed, why and what to check.\nWith --keep, nginx and the boot service stay up until Ctrl-C, and the farm folder can be opened in VS Code.',
    options: {
      keep: { type: 'boolean', description: 'leave nginx and the boot service running (Ctrl-C stops them)' },
      runtime: { type: 'string', description: 'nginx runtime: podman or local (default: podman when it works here)' },
      timeout: { type: 'string', description: 'seconds the QEMU boot may take (default 240)' },
    },
    async run(ctx, args, o) {
      if (o.runtime !== undefined && o.runtime !== 'podman' && o.runtime !== 'local') throw new UsageError('--runtime must be podman or local.');
      const timeout = o.timeout === undefined ? undefined : Number(o.timeout);
      if (timeout !== undefined && !(timeout > 0)) throw new UsageError('--timeout takes a number of seconds.');
      const started = Date.now();
      const r = await runDemo({
        dir: args[0],
        keep: o.keep === true,
        runtime: o.runtime as 'podman' | 'local' | undefined,
        timeoutMs: timeout ? timeout * 1000 : undefined,
        signal: ctx.signal,
        progress: (l) => ctx.info(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${l}`),
      });
      const { stop, ...plain } = r;
      if (ctx.json) ctx.outJson(plain);
      else {
        const times = ORDER.filter((s) => r.stageTimes[s] !== undefined).map((s) => `${s} ${r.stageTimes[s]!.toFixed(1)} s`);
        const bootLine = r.boot ? formatStages(r.boot.stages) : '';
        if (r.ok) {
          ctx.out(`PASS  dut1 booted Linux over mutual TLS with its secret on the command line (nginx: ${r.runtime}).`);
          ctx.out(`      stages (since demo start): ${times.join(' · ')}`);
          if (bootLine) ctx.out(`      QEMU boot (since power-on): ${bootLine}`);
          ctx.out(`      farm: ${r.root}   serial log: ${r.boot?.logFile}`);
        } else if (ctx.signal.aborted) {
          ctx.out(`CANCELLED during stage "${r.failedStage}"; nginx and the boot service were stopped. Farm: ${r.root}`);
        } else {
          ctx.out(`FAIL  at stage "${r.failedStage}": ${r.error}`);
          if (times.length) ctx.out(`      stages done: ${times.join(' · ')}`);
          ctx.out(`      farm kept for inspection: ${r.root}`);
        }
      }
      if (r.ok && stop) {
        ctx.info(`nginx and the boot service keep running. Open the farm in VS Code with:  code ${r.root}\nPress Ctrl-C to stop them.`);
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        await stop();
      }
      return r.ok ? 0 : ctx.signal.aborted ? 130 : 1;
    },
  },
];
