import { UsageError } from '../../core/errors';
import { openFarm } from '../../core/farm';
import { parseSettings, setClientBoard } from '../../core/farm';
import { powerFor, type PowerAction } from '../../core/power';
import type { CliCommand } from '../framework';

const ACTIONS = ['on', 'off', 'cycle', 'status'] as const;

export const boardCommands: CliCommand[] = [
  {
    name: 'power',
    args: 'on|off|cycle|status CLIENT…',
    summary: 'Switch real boards\' power through their driver (pdudaemon, IPMI, your own command).',
    details: `
Each client's "power" section in ipxe-farm.json says how: pdudaemon (its HTTP API), ipmi (ipmitool -I lanplus, the
password from the farm's secrets, never on a command line) or command (your programs, no shell). QEMU clients are
powered by starting QEMU: use \`ipxe-farm boot CLIENT\`. Several clients are switched at once; exit 1 if any failed.

Examples:
  ipxe-farm power cycle rack1-a rack1-b
  ipxe-farm power status bmc1 --json`,
    async run(ctx, args) {
      const [action, ...clients] = args;
      if (!action || !(ACTIONS as readonly string[]).includes(action) || clients.length === 0) {
        throw new UsageError('power takes an action (on, off, cycle or status) and at least one CLIENT.', 'Example: ipxe-farm power cycle dut1');
      }
      const root = await ctx.farmRoot();
      const { farm } = await openFarm(root);
      const results = await Promise.all(clients.map(async (name) => {
        try {
          const ctl = await powerFor(root, farm, name);
          if (action === 'status') return { client: name, ok: true, state: await ctl.status(ctx.signal), via: ctl.describe };
          await ctl[action as PowerAction](ctx.signal);
          return { client: name, ok: true, done: action, via: ctl.describe };
        } catch (err) {
          return { client: name, ok: false, error: (err as { sentence?: string }).sentence ?? (err as Error).message };
        }
      }));
      if (ctx.json) ctx.outJson(results);
      for (const r of results) {
        if (!r.ok) ctx.info(`${r.client}: ${r.error}`);
        else if (!ctx.json) ctx.out(r.state ? `${r.client}: ${r.state} (${r.via})` : `${r.client}: switched ${r.done === 'cycle' ? 'off and on' : r.done} (${r.via})`);
      }
      return results.every((r) => r.ok) ? 0 : 1;
    },
  },
  ...(['power', 'console'] as const).map((section): CliCommand => ({
    name: `client ${section}`,
    args: 'NAME DRIVER [KEY=VALUE…]',
    summary: section === 'power'
      ? 'Set how a client\'s power is switched: qemu, pdudaemon, ipmi or command (none removes it).'
      : 'Set where a client\'s serial console is read: qemu, serial or tcp (none removes it).',
    details: section === 'power' ? `
Examples:
  ipxe-farm client power rack1 pdudaemon host=127.0.0.1 port=16421 pdu=pdu1 outlet=3
  ipxe-farm client power bmc1 ipmi host=10.1.0.5 user=admin passwordSecret=bmc1-pw
  ipxe-farm client power plug1 command on='["plug","{{client.vars.plug}}","on"]' off='["plug","{{client.vars.plug}}","off"]' timeoutSeconds=20` : `
Examples:
  ipxe-farm client console rack1 tcp host=127.0.0.1 port=2001 protocol=raw
  ipxe-farm client console bmc1 serial device=/dev/ttyUSB0 baud=115200`,
    async run(ctx, args) {
      const [name, driver, ...pairs] = args;
      if (!name || !driver) throw new UsageError(`client ${section} takes a client NAME and a DRIVER.`, `See \`ipxe-farm client ${section} --help\`.`);
      await setClientBoard(await ctx.farmRoot(), name, section, driver, parseSettings(pairs));
      if (ctx.json) ctx.outJson({ client: name, [section]: driver });
      else ctx.out(driver === 'none' ? `Client ${name} has no ${section} section now.` : `Client ${name}: ${section} via ${driver}.`);
    },
  })),
];

export const metricsCommands: CliCommand[] = [
  {
    name: 'metrics',
    summary: 'Serve the farm\'s boot metrics for Prometheus (boots, refusals, stage latencies, certificate days left).',
    options: {
      listen: { type: 'string', description: 'HOST:PORT (default: /metrics/listen of the farm file, else 127.0.0.1:9464)' },
      once: { type: 'boolean', description: 'print the metrics once and exit (no listener)' },
    },
    details: `
Only loopback unless the farm file names another address in "metrics": {"listen": "HOST:PORT"}. The numbers are read
from the farm's records at each scrape: verdicts (.ipxe-farm/verdicts.jsonl), the boot events, the PKI index.`,
    async run(ctx, _args, o) {
      const root = await ctx.farmRoot();
      const { farmMetrics } = await import('../../core/metrics');
      if (o.once === true) { ctx.out(await (await farmMetrics(root)).metrics()); return; }
      const { metricsListen, startMetricsServer } = await import('../../core/metrics');
      const { farm } = await openFarm(root);
      const server = await startMetricsServer(root, metricsListen(farm, o.listen as string | undefined));
      ctx.info(`Serving ${server.url} (Ctrl-C stops).`);
      if (ctx.json) ctx.outJson({ url: server.url });
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      await server.close();
    },
  },
];
