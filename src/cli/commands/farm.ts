import * as path from 'node:path';
import { initFarm } from '../../core/farm';
import { openFarm } from '../../core/farm';
import type { CliCommand } from '../framework';
import { runtimeOption } from './runtimeOption';

export const farmCommands: CliCommand[] = [
  {
    name: 'init',
    args: '[DIR]',
    summary: 'Create a farm: ipxe-farm.json and its folders (pki/, nginx/, files/, ipxe/).',
    options: {
      name: { type: 'string', description: 'farm name (default: the folder name)' },
      runtime: { type: 'string', description: 'how this farm runs nginx: podman (default) or local; `ipxe-farm config set nginx.runtime` changes it later' },
    },
    async run(ctx, args, o) {
      const dir = path.resolve(ctx.cwd, args[0] ?? '.');
      const layout = await initFarm(dir, { name: o.name as string | undefined, runtime: runtimeOption(o) });
      if (ctx.json) ctx.outJson({ root: layout.root, farmFile: layout.farmFile });
      else {
        ctx.out(`Created ${layout.farmFile}`);
        ctx.out('Next: `ipxe-farm ca init`, then `ipxe-farm issue server` and `ipxe-farm issue client NAME`.');
      }
    },
  },
  {
    name: 'show',
    summary: 'Print the farm file as iPXE Farm reads it (defaults filled in).',
    async run(ctx) {
      const { farm, layout } = await openFarm(await ctx.farmRoot());
      if (ctx.json) ctx.outJson({ root: layout.root, farm });
      else ctx.out(JSON.stringify(farm, null, 2));
    },
  },
];
