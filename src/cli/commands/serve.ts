import * as path from 'node:path';
import { startBootService } from '../../core/boot/light';
import type { CliCommand } from '../framework';

/**
 * `ipxe-farm serve` on its own, because it runs as long as the farm does: main.ts loads this module alone for it, so
 * the service starts (and stays) without the CA's crypto and the child-process code the other commands bring.
 */
export const serveCommands: CliCommand[] = [
  {
    name: 'serve',
    summary: 'Run the boot service in the foreground on the farm\'s unix socket (for systemd or a container).',
    options: { socket: { type: 'string', description: 'listen on this socket instead of .ipxe-farm/run/boot.sock' } },
    async run(ctx, _args, o) {
      const root = await ctx.farmRoot();
      const svc = await startBootService({ root, socket: typeof o.socket === 'string' ? path.resolve(ctx.cwd, o.socket) : undefined, log: (l) => ctx.info(l) });
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      ctx.info('stopping the boot service');
      await svc.close();
    },
  },
];
