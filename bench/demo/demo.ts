/**
 * `npm run demo` wall time, per stage, on the two iPXE paths, run alternately in the same session:
 *   stock   — Debian's prebuilt EFI iPXE (what a fresh machine without an iPXE tree gets)   target ≤ 60 s to PASS
 *   source  — an iPXE ISO built from IPXE_SRC (skipped, saying so, when IPXE_SRC is not set)
 * Run:  npm run bench -- demo [--runs 1] [--only stock|source] [--runtime podman|local]
 * Each run is `node scripts/demo.mjs … --json`, exactly what `npm run demo` does (npm deps check, apt check, esbuild,
 * then `ipxe-farm demo`): wall time is from spawn to exit; stage times come from the demo's own answer. The Debian
 * packages (stock iPXE, test kernel) are taken from the shared cache as they are: warm cache figures. For a cold cache
 * run it with XDG_CACHE_HOME pointing at an empty folder.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    only: { type: 'string' },
    runtime: { type: 'string' },
  },
});
const STAGES = ['farm', 'source', 'pki', 'kernel', 'nginx', 'boot-service', 'image', 'qemu', 'check'] as const;
const TARGET_STOCK_S = 60;

interface Row { path: string; ok: boolean; wallS: number; stages: Record<string, number>; boot?: Record<string, number>; runtime?: string; error?: string }

function once(kind: 'stock' | 'source'): Row {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const args = ['scripts/demo.mjs', '--json', ...(o.runtime ? ['--runtime', o.runtime] : [])];
  if (kind === 'stock') { delete env.IPXE_SRC; args.push('--ipxe', 'stock'); } else args.push('--ipxe', 'built', '--offline');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: process.cwd(), env, encoding: 'utf8', timeout: 20 * 60_000 });
  const wallS = (performance.now() - t0) / 1000;
  let out: { ok?: boolean; stageTimes?: Record<string, number>; boot?: { stages?: Record<string, number> }; runtime?: string; error?: string } = {};
  try { out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))); } catch { out = { ok: false, error: `no JSON (exit ${r.status}): ${r.stderr.split('\n').slice(-5).join(' | ')}` }; }
  // Stage durations from the cumulative "end of stage" times.
  const stages: Record<string, number> = {};
  let prev = 0;
  for (const s of STAGES) {
    const end = out.stageTimes?.[s];
    if (end === undefined) continue;
    stages[s] = end - prev;
    prev = end;
  }
  return { path: kind, ok: out.ok === true, wallS, stages, boot: out.boot?.stages, runtime: out.runtime, error: out.error };
}

function main(): void {
  const runs = Math.max(1, Number(o.runs) || 1);
  const kinds: Array<'stock' | 'source'> = o.only === 'stock' || o.only === 'source' ? [o.only] : ['stock', 'source'];
  console.log(`${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; IPXE_SRC=${process.env.IPXE_SRC ?? '(unset)'}`);
  const rows: Row[] = [];
  for (let i = 0; i < runs; i++) {
    for (const kind of kinds) {
      if (kind === 'source' && !process.env.IPXE_SRC) { if (i === 0) console.log('source: SKIPPED, IPXE_SRC is not set (the source path needs an iPXE tree)'); continue; }
      const row = once(kind);
      rows.push(row);
      console.log(`${kind} run ${i + 1}: ${row.ok ? 'PASS' : `FAIL ${row.error?.split('\n')[0]}`} in ${row.wallS.toFixed(1)} s (nginx: ${row.runtime ?? '?'})`);
    }
  }
  // setup: what `npm run demo` does before `ipxe-farm demo` starts (npm and apt checks, esbuild) and after it ends.
  console.log(`\nseconds  ${'path'.padEnd(7)} ${'wall'.padStart(7)} ${'setup'.padStart(7)}${STAGES.map((s) => s.padStart(13)).join('')}`);
  for (const r of rows) {
    const inDemo = Object.values(r.stages).reduce((a, b) => a + b, 0);
    console.log(`         ${r.path.padEnd(7)} ${r.wallS.toFixed(1).padStart(7)} ${(r.wallS - inDemo).toFixed(1).padStart(7)}${STAGES.map((s) => (r.stages[s] === undefined ? '-' : r.stages[s]!.toFixed(1)).padStart(13)).join('')}`);
  }
  for (const r of rows) {
    if (r.boot) console.log(`${r.path} QEMU since power-on: ${Object.entries(r.boot).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(' · ')}`);
  }
  const stock = rows.filter((r) => r.path === 'stock' && r.ok).map((r) => r.wallS).sort((a, b) => a - b);
  if (stock.length) {
    const median = stock[Math.floor(stock.length / 2)]!;
    console.log(`\nstock path, npm run demo to PASS (median of ${stock.length}): ${median.toFixed(1)} s — target ≤ ${TARGET_STOCK_S} s: ${median <= TARGET_STOCK_S ? 'OK' : 'OVER TARGET'}`);
  }
  if (os.loadavg()[0]! > os.availableParallelism()) console.log('note: the machine is busy with other work (load above the core count): QEMU runs under TCG, so wall times include waiting for CPU');
  process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
}

main();
