import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { readBootEvents, WHY_PATH } from '../boot/light';
import { readPkiIndex } from '../pki/light';
import { readVerdicts, type VerdictStages } from '../verdict/light';

/**
 * The farm's numbers for Prometheus, computed from its records at each scrape (verdicts, boot events, PKI index), so
 * a restarted exporter loses nothing and never disagrees with `ipxe-farm health` or the events log.
 */
const STAGE_BUCKETS = [0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300];
const STAGES: (keyof VerdictStages)[] = ['consoleUp', 'ipxeUp', 'dhcpOk', 'scriptServed', 'kernelFetched', 'marker'];

export async function farmMetrics(root: string, now = new Date()): Promise<Registry> {
  const registry = new Registry();
  const boots = new Counter({ name: 'ipxe_farm_boots_total', help: 'Boot verdicts by client and outcome.', labelNames: ['client', 'outcome'], registers: [registry] });
  const stages = new Histogram({ name: 'ipxe_farm_boot_stage_seconds', help: 'Seconds from power-on to each boot stage, from the verdicts.', labelNames: ['stage'], buckets: STAGE_BUCKETS, registers: [registry] });
  const served = new Counter({ name: 'ipxe_farm_scripts_served_total', help: 'Boot scripts the boot service served, by client.', labelNames: ['client'], registers: [registry] });
  const refusals = new Counter({ name: 'ipxe_farm_refusals_total', help: 'Requests the boot service refused, by reason.', labelNames: ['reason'], registers: [registry] });
  const days = new Gauge({ name: 'ipxe_farm_cert_days_left', help: 'Days until each current certificate expires.', labelNames: ['kind', 'name'], registers: [registry] });

  for (const v of await readVerdicts(root)) {
    boots.inc({ client: v.client, outcome: v.outcome });
    for (const s of STAGES) if (v.stages?.[s] !== undefined) stages.observe({ stage: s }, v.stages[s]! / 1000);
  }
  for (const e of await readBootEvents(root)) {
    if (e.path?.split('?')[0] === WHY_PATH) continue;
    if (e.status === 200 && e.client) served.inc({ client: e.client });
    else if (e.status >= 400) refusals.inc({ reason: e.reason ?? `HTTP ${e.status}` });
  }
  try {
    const index = await readPkiIndex(root);
    for (const r of index.records) {
      if (r.status !== 'valid') continue;
      days.set({ kind: r.kind, name: r.name }, Math.floor((Date.parse(r.notAfter) - now.getTime()) / 86_400_000));
    }
  } catch { /* no CA yet: no certificate gauges */ }
  return registry;
}
