import { formatChecks, runChecks } from '../../core/doctor/checks';
import { findFarmRoot, loadFarm } from '../../core/farm/load';
import type { CliCommand } from '../framework';

export const doctorCommands: CliCommand[] = [
  {
    name: 'doctor',
    summary: 'Check this machine for everything the farm needs (nginx, podman, QEMU, OVMF, build tools, iPXE source).',
    details: 'Exits 1 when a required item is missing, and says how to install it.',
    async run(ctx) {
      const root = await findFarmRoot(ctx.cwd);
      const farm = root ? (await loadFarm(root).catch(() => undefined))?.farm : undefined;
      const checks = await runChecks({ ipxeSource: farm?.ipxe.source, ipxeRef: farm?.ipxe.ref, nginxImage: farm?.nginx.image });
      if (ctx.json) ctx.outJson({ checks });
      else ctx.out(formatChecks(checks));
      return checks.some((c) => c.required && !c.ok) ? 1 : 0;
    },
  },
];
