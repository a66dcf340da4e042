import { runDemo, type DemoStage } from '../../core/demo';
import { UsageError } from '../../core/errors';
import { formatStages } from '../../core/qemu';
import type { CliCommand } from '../framework';
import { secondsOption } from '../args';
import { runtimeOption } from './runtimeOption';

const ORDER: DemoStage[] = ['farm', 'source', 'pki', 'kernel', 'nginx', 'boot-service', 'image', 'qemu', 'check'];

export const demoCommands: CliCommand[] = [
  {
    name: 'demo',
    args: '[DIR]',
    summary: 'The whole secure boot in one go: CA, nginx, boot service, iPXE image, QEMU boot of a real kernel over mTLS.',
    details: `Prints PASS with the time of each stage, or which stage failed, why and what to check.
With --keep, nginx and the boot service stay up until Ctrl-C, and the farm folder can be opened in VS Code.
iPXE: with a source tree (ipxe.source, IPXE_SRC, the per-user cache, or a clone from GitHub) the demo builds a BIOS ISO
with the farm CA and dut1's identity inside and checks kernel + initrd with imgverify. Without one it boots Debian's
prebuilt EFI iPXE under OVMF (CA in the firmware's variable store, identity in autoexec.ipxe) and pins kernel + initrd
by SHA-256 in the served script.`,
    options: {
      keep: { type: 'boolean', description: 'leave nginx and the boot service running (Ctrl-C stops them)' },
      runtime: { type: 'string', description: 'nginx runtime: podman or local (default: podman when it works here)' },
      timeout: { type: 'string', description: 'seconds the QEMU boot may take (default 240)' },
      ipxe: { type: 'string', description: 'auto, built or stock (default auto: built when a source tree can be had, else Debian\'s prebuilt EFI iPXE)' },
      offline: { type: 'boolean', description: 'never clone iPXE from GitHub: a tree this machine has, else the stock image' },
    },
    async run(ctx, args, o) {
      const runtime = runtimeOption(o);
      if (o.ipxe !== undefined && !['auto', 'built', 'stock'].includes(o.ipxe as string)) throw new UsageError('--ipxe must be auto, built or stock.');
      const timeout = secondsOption(o.timeout, '--timeout');
      const started = Date.now();
      const r = await runDemo({
        dir: args[0],
        keep: o.keep === true,
        runtime,
        ipxe: o.ipxe as 'auto' | 'built' | 'stock' | undefined,
        clone: o.offline === true ? false : undefined,
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
          ctx.out(r.ipxe === 'stock'
            ? '      iPXE: Debian\'s prebuilt EFI binary under OVMF; integrity: SHA-256 pins of kernel + initrd in the served script.'
            : '      iPXE: built from source (BIOS ISO); integrity: imgverify of kernel + initrd against the farm\'s code-signing certificate.');
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
