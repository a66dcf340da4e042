import * as path from 'node:path';
import { initFarm } from '../../core/farm/init';
import { loadFarm } from '../../core/farm/load';
import { SETTABLE, setFarmSetting } from '../../core/farm/settings';
import { UsageError } from '../../core/errors';
import type { CliCommand } from '../framework';

export const farmCommands: CliCommand[] = [
  {
    name: 'init',
    args: '[DIR]',
    summary: 'Create a farm: ipxe-farm.json and its folders (pki/, nginx/, files/, ipxe/).',
    options: { name: { type: 'string', description: 'farm name (default: the folder name)' } },
    async run(ctx, args, o) {
      const dir = path.resolve(ctx.cwd, args[0] ?? '.');
      const layout = await initFarm(dir, { name: o.name as string | undefined });
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
      const { farm, layout } = await loadFarm(await ctx.farmRoot());
      if (ctx.json) ctx.outJson({ root: layout.root, farm });
      else ctx.out(JSON.stringify(farm, null, 2));
    },
  },
  {
    name: 'set',
    args: 'KEY VALUE',
    summary: 'Change one farm setting in ipxe-farm.json (checked as a whole before it is written).',
    details: `
Keys: ${Object.keys(SETTABLE).join(', ')}.
Example: ipxe-farm set ipxe.proxyDhcp true   (this network has a PXE/ProxyDHCP server: keep iPXE's 2 s wait)
Settings that change built images (ipxe.*, server.address, server.httpsPort) make those images stale: rebuild them.`,
    async run(ctx, args) {
      if (args.length !== 2) throw new UsageError('Give a KEY and a VALUE.', 'Example: `ipxe-farm set ipxe.proxyDhcp true`.');
      const r = await setFarmSetting(await ctx.farmRoot(), args[0]!, args[1]!);
      if (ctx.json) ctx.outJson({ key: r.key, before: r.before ?? null, after: r.after });
      else ctx.out(`${r.key}: ${JSON.stringify(r.before ?? null)} → ${JSON.stringify(r.after)}`);
    },
  },
];
