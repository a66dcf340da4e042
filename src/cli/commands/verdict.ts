import { UsageError } from '../../core/errors';
import { openFarm } from '../../core/farm';
import { bootVerdict, type BootVerdict, type BootVerdictOptions } from '../../core/verdict';
import { formatVerdictStages } from '../../core/verdict';
import { DEFAULT_HEALTH, farmHealth, healthOf, readVerdicts } from '../../core/verdict';
import type { CliCommand, CliContext } from '../framework';
import { exactlyOne, patternOption, qemuImageOptions, secondsOption } from '../args';

const bootOptions = {
  until: { type: 'string', description: 'the marker that means booted, a regular expression (default: the test kernel\'s line or "login:")' },
  timeout: { type: 'string', description: 'seconds before the boot is declared failed (default 300)' },
  efi: { type: 'boolean', description: 'QEMU clients: boot with OVMF' },
  image: { type: 'string', description: 'QEMU clients: boot this image (e.g. a stock EFI stick)' },
  vars: { type: 'string', description: 'QEMU clients, EFI: start from this variable store' },
  quiet: { type: 'boolean', description: 'do not show the console, only the verdict' },
} as const;

/** A count (--boots, --last). */
function positive(v: unknown, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what} ${String(v)} is not a positive number.`);
  return n;
}

function verdictOptions(ctx: CliContext, o: Record<string, unknown>): BootVerdictOptions {
  const show = !ctx.json && o.quiet !== true;
  return {
    until: patternOption(o.until, '--until', 'm'),
    timeoutMs: (secondsOption(o.timeout, '--timeout') ?? 300) * 1000,
    signal: ctx.signal,
    onOutput: show ? (t) => process.stdout.write(t) : undefined,
    onNote: show ? (l) => ctx.info(`[ipxe-farm] ${l}`) : undefined,
    qemu: qemuImageOptions(o),
  };
}

function printVerdict(ctx: CliContext, v: BootVerdict): void {
  ctx.out(`\n${v.outcome === 'pass' ? 'PASS' : 'FAIL'} ${v.client} in ${(v.elapsedMs / 1000).toFixed(1)} s: ${v.reason}`);
  const st = formatVerdictStages(v.stages);
  if (st) ctx.out(`Stages: ${st}`);
  ctx.out(`Power: ${v.via.power} · console: ${v.via.console} · log: ${v.logFile}`);
}

export const verdictCommands: CliCommand[] = [
  {
    name: 'boot',
    args: 'CLIENT',
    summary: 'Power-cycle a client, follow its console and the boot service, and say PASS or FAIL with the reason.',
    options: bootOptions,
    details: `
A board (a "power" and a "console" section) is power-cycled through its driver with its console attached first; a
QEMU client is started in QEMU. Either way the console and the boot service's events for that client are read
together: script served, kernel fetched, marker. The verdict is recorded for \`ipxe-farm health\`. Exit 0 on PASS.

Examples:
  ipxe-farm boot rack1 --until 'login:' --timeout 180
  ipxe-farm boot dut1 --efi --image ipxe/dut1/out/stock-efi.img --vars ipxe/dut1/out/stock-vars.fd`,
    async run(ctx, args, o) {
      const client = exactlyOne(args, 'boot', 'CLIENT', 'ipxe-farm boot dut1');
      const v = await bootVerdict(await openFarm(await ctx.farmRoot()), client, verdictOptions(ctx, o));
      if (ctx.json) ctx.outJson(v); else printVerdict(ctx, v);
      return v.outcome === 'pass' ? 0 : 1;
    },
  },
  {
    name: 'train',
    args: 'CLIENT',
    summary: 'Boot a client N times in a row and report its success rate (CI-tron\'s training of a new board).',
    options: { ...bootOptions, boots: { type: 'string', description: 'how many boots (default 10)' } },
    async run(ctx, args, o) {
      const client = exactlyOne(args, 'train', 'CLIENT', 'ipxe-farm train rack1 --boots 20');
      const n = positive(o.boots, 10, '--boots');
      if (!Number.isInteger(n) || n > 1000) throw new UsageError('--boots must be a whole number up to 1000.');
      const opened = await openFarm(await ctx.farmRoot());
      const { root } = opened;
      const t0 = Date.now();
      const verdicts: BootVerdict[] = [];
      for (let i = 1; i <= n; i++) {
        const v = await bootVerdict(opened, client, { ...verdictOptions(ctx, { ...o, quiet: true }) });
        verdicts.push(v);
        if (!ctx.json) ctx.info(`boot ${i}/${n}: ${v.outcome === 'pass' ? 'PASS' : 'FAIL'} in ${(v.elapsedMs / 1000).toFixed(1)} s${v.outcome === 'fail' ? ` — ${v.reason}` : ''}`);
      }
      const h = healthOf(client, await readVerdicts(root), { ...DEFAULT_HEALTH, last: n });
      const wallMs = Date.now() - t0;
      if (ctx.json) ctx.outJson({ client, boots: n, passed: h.passed, successRate: h.successRate, state: h.state, wallMs, verdicts });
      else ctx.out(`${client}: ${h.passed}/${n} passed (${Math.round((h.successRate ?? 0) * 100)} %), ${h.state}, ${(wallMs / 1000).toFixed(1)} s wall${h.lastFailure ? `; last failure: ${h.lastFailure.reason}` : ''}`);
      return h.passed === n ? 0 : 1;
    },
  },
  {
    name: 'health',
    summary: 'Per-client boot health: success rate over the last N verdicts, last failure, flaky or failing.',
    options: {
      last: { type: 'string', description: `how many recent boots count (default ${DEFAULT_HEALTH.last})` },
      threshold: { type: 'string', description: `success rate under which a client is flaky (default ${DEFAULT_HEALTH.threshold})` },
    },
    async run(ctx, _args, o) {
      const last = positive(o.last, DEFAULT_HEALTH.last, '--last');
      const threshold = o.threshold === undefined ? DEFAULT_HEALTH.threshold : Number(o.threshold);
      if (!(threshold > 0 && threshold <= 1)) throw new UsageError(`--threshold ${String(o.threshold)} must be a fraction from 0 to 1, e.g. 0.9.`);
      const root = await ctx.farmRoot();
      const { farm } = await openFarm(root);
      const rows = await farmHealth(root, Object.keys(farm.clients), { last, threshold });
      if (ctx.json) { ctx.outJson(rows); return; }
      for (const h of rows) {
        const rate = h.successRate === undefined ? 'no boots yet' : `${h.passed}/${h.boots} passed (${Math.round(h.successRate * 100)} %)`;
        ctx.out(`${h.client.padEnd(16)} ${h.state.padEnd(9)} ${rate}${h.lastFailure ? ` · last failure ${h.lastFailure.at}: ${h.lastFailure.reason}` : ''}`);
      }
    },
  },
];
