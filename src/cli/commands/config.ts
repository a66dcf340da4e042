import { getSetting, parseSettingValue, setSetting } from '../../core/farm';
import { openFarm } from '../../core/farm';
import { UsageError } from '../../core/errors';
import { servableCheck } from '../../core/boot';
import type { CliCommand } from '../framework';

const KEYS = 'KEY is a dotted path (server.address, nginx.runtime, qemu.memoryMiB) or a JSON pointer (/clients/dut1.lab/profile).';

export const configCommands: CliCommand[] = [
  {
    name: 'config get',
    args: 'KEY',
    summary: 'Print one farm setting as iPXE Farm reads it (defaults filled in).',
    details: KEYS,
    async run(ctx, args) {
      if (args.length !== 1) throw new UsageError('config get takes one KEY.', KEYS);
      const { farm } = await openFarm(await ctx.farmRoot());
      const value = getSetting(farm, args[0]!);
      if (ctx.json) ctx.outJson({ key: args[0], value });
      else ctx.out(typeof value === 'string' ? value : JSON.stringify(value));
    },
  },
  {
    name: 'config set',
    args: 'KEY [VALUE]',
    summary: 'Change one farm setting; the file keeps its formatting and is written only if the farm still loads.',
    details: `${KEYS}\nVALUE is read as JSON when it is JSON (8443, true, ["iso","efi"], "quoted"), else as text. --unset removes the key (its default applies).\nExamples:\n  ipxe-farm config set server.address 192.168.10.1\n  ipxe-farm config set ipxe.targets '["iso","efi"]'\n  ipxe-farm config set qemu.accel --unset`,
    options: {
      unset: { type: 'boolean', description: 'remove the key from the farm file (its default applies)' },
      'allow-missing': { type: 'boolean', description: 'write it although a file, signature or secret a mapping names is not there yet (that client is refused until it is)' },
    },
    async run(ctx, args, o) {
      const unset = o.unset === true;
      if (args.length !== (unset ? 1 : 2)) throw new UsageError(unset ? 'config set KEY --unset takes no VALUE.' : 'config set takes KEY and VALUE.', KEYS);
      const root = await ctx.farmRoot();
      // Like `profile`/`client`: a mapping the boot service would refuse is not written (issue 13).
      const check = servableCheck(root, { allowMissing: o['allow-missing'] === true, onMissing: (s) => ctx.info(`note: ${s}`) });
      const { farm } = await setSetting(root, args[0]!, unset ? undefined : parseSettingValue(args[1]!), check);
      let now: unknown;
      try { now = getSetting(farm, args[0]!); } catch { now = undefined; }
      if (ctx.json) ctx.outJson({ key: args[0], value: now });
      else ctx.out(`${args[0]} = ${now === undefined ? '(not set)' : JSON.stringify(now)}`);
    },
  },
];
