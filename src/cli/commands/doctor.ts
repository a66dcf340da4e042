import { formatChecks, runChecks, socketReachCheck } from '../../core/doctor';
import { dhcpAdvice, NO_PXEDHCP_LINES } from '../../core/doctor';
import { openFarm } from '../../core/farm';
import { findFarmRoot } from '../../core/farm';
import type { CliCommand } from '../framework';

export const doctorCommands: CliCommand[] = [
  {
    name: 'doctor',
    summary: 'Check this machine for everything the farm needs (nginx, podman, QEMU, OVMF, build tools, iPXE source).',
    details: 'Exits 1 when a required item is missing, and says how to install it. Also prints the dnsmasq and ISC dhcpd lines that spare iPXE its 2 s ProxyDHCP wait.',
    async run(ctx) {
      const root = await findFarmRoot(ctx.cwd);
      const h = root ? await openFarm(root).catch(() => undefined) : undefined;
      const farm = h?.farm;
      const checks = await runChecks({ ipxeSource: farm?.ipxe.source, ipxeRef: farm?.ipxe.ref, nginxImage: farm?.nginx.image });
      if (h) checks.push(socketReachCheck(h));
      if (ctx.json) ctx.outJson({ checks, noPxeDhcp: NO_PXEDHCP_LINES });
      else ctx.out(`${formatChecks(checks)}\n\n${dhcpAdvice(farm)}`);
      return checks.some((c) => c.required && !c.ok) ? 1 : 0;
    },
  },
];
