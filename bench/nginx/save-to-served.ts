/**
 * Save-to-served latency of the farm's reload-on-save against the bare reload command, for both nginx runtimes, in
 * the same run: the time from writing a changed conf file to the new config answering over mutual TLS, p50 and p95
 * over N saves (alternating ours and bare, so both see the same machine load); and the time from a broken save to its
 * diagnostics.
 *
 *   npx esbuild bench/nginx/save-to-served.ts --bundle --platform=node --outfile=out/bench/nginx-save.js \
 *     --log-level=warning && node out/bench/nginx-save.js [--saves 20] [--only local|podman]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../src/core/fs/atomic';
import { run } from '../../src/core/process/run';
import { which } from '../../src/core/process/light';
import type { NginxRuntimeKind } from '../../src/core/farm/model';
import { createNginxRuntime } from '../../src/core/nginx/createRuntime';
import { LocalNginxRuntime } from '../../src/core/nginx/localRuntime';
import { PodmanNginxRuntime } from '../../src/core/nginx/podmanRuntime';
import { ReloadOnSave } from '../../src/core/nginx/reloadOnSave';
import { clientIdentity, httpsGet, nginxTestFarm } from '../../test/support/nginx';
import { setupPodman } from '../../test/support/podman';

const { values } = parseArgs({ options: { saves: { type: 'string', default: '20' }, only: { type: 'string' } } });
const SAVES = Number(values.saves);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

interface Row { runtime: string; method: string; p50: number; p95: number; n: number }

async function bench(kind: NginxRuntimeKind): Promise<Row[]> {
  const f = await nginxTestFarm(kind);
  const rt = createNginxRuntime(f, kind);
  const reloader = new ReloadOnSave(rt, f.layout);
  const conf = path.join(f.layout.nginx, 'conf.d', 'ipxe-https.conf');
  const original = fs.readFileSync(conf, 'utf8');
  const withGen = (gen: string, extra = '') => original.replace('    location / {\n', `    location = /gen {\n        return 200 "${gen}";\n    }\n${extra}    location / {\n`);
  const id = clientIdentity(f.layout, 'dut1');
  const served = async (gen: string, t0: number): Promise<number> => {
    for (;;) {
      const a = await httpsGet(f.layout, f.farm.server.httpsPort, '/gen', id, {}, 2000);
      if (a.body === gen) return performance.now() - t0;
      if (performance.now() - t0 > 10_000) throw new Error(`${kind}: ${gen} not served within 10 s`);
    }
  };
  const bare = async () => {
    if (rt instanceof LocalNginxRuntime) await run('nginx', rt.args(['-s', 'reload']));
    else if (rt instanceof PodmanNginxRuntime) await run('podman', ['exec', rt.name, ...rt.nginxArgs(['-s', 'reload'])]);
  };
  const ours: number[] = [];
  const inCode: number[] = [];
  const bares: number[] = [];
  const diag: number[] = [];
  try {
    await writeFileAtomic(conf, withGen('warm'));
    await rt.up();
    await served('warm', performance.now());
    for (let i = 0; i < SAVES; i++) {
      let gen = `ours${i}`;
      let t0 = performance.now();
      await writeFileAtomic(conf, withGen(gen));
      const o = await reloader.saved(conf)!;
      if (!o.reloaded) throw new Error(`${kind}: not reloaded: ${JSON.stringify(o.diagnostics)} ${o.error ?? ''}`);
      inCode.push(o.latencyMs);
      ours.push(await served(gen, t0));

      gen = `bare${i}`;
      t0 = performance.now();
      await writeFileAtomic(conf, withGen(gen));
      await bare();
      bares.push(await served(gen, t0));
    }
    for (let i = 0; i < Math.min(SAVES, 10); i++) {
      const t0 = performance.now();
      await writeFileAtomic(conf, withGen(`bad${i}`, '    bogus_directive on;\n'));
      const o = await reloader.saved(conf)!;
      diag.push(performance.now() - t0);
      if (o.ok || !o.diagnostics.some((d) => d.file === conf && d.line)) throw new Error(`${kind}: broken save gave no located diagnostic`);
    }
  } finally {
    reloader.dispose();
    await rt.down().catch(() => undefined);
  }
  return [
    { runtime: kind, method: 'reload-on-save (test + reload)', p50: pct(ours, 50), p95: pct(ours, 95), n: ours.length },
    { runtime: kind, method: '  of which save -> test passed + SIGHUP', p50: pct(inCode, 50), p95: pct(inCode, 95), n: inCode.length },
    { runtime: kind, method: kind === 'podman' ? 'bare: podman exec NAME nginx -s reload' : 'bare: nginx -s reload', p50: pct(bares, 50), p95: pct(bares, 95), n: bares.length },
    { runtime: kind, method: 'broken save -> diagnostics', p50: pct(diag, 50), p95: pct(diag, 95), n: diag.length },
  ];
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const kinds: NginxRuntimeKind[] = values.only ? [values.only as NginxRuntimeKind] : ['local', 'podman'];
  for (const kind of kinds) {
    if (kind === 'local' && !which('nginx')) { console.log('local: SKIPPED, nginx is not installed'); continue; }
    if (kind === 'podman') {
      const p = setupPodman();
      if (!p.ok) { console.log(`podman: ${p.reason}`); continue; }
    }
    rows.push(...(await bench(kind)));
  }
  console.log(`\nsave-to-served latency, ${SAVES} saves each (ms)\n`);
  console.log(`${'runtime'.padEnd(8)} ${'method'.padEnd(42)} ${'p50'.padStart(7)} ${'p95'.padStart(7)}   n`);
  for (const r of rows) console.log(`${r.runtime.padEnd(8)} ${r.method.padEnd(42)} ${r.p50.toFixed(1).padStart(7)} ${r.p95.toFixed(1).padStart(7)}   ${r.n}`);
  for (const kind of kinds) {
    const ours = rows.find((r) => r.runtime === kind && r.method.startsWith('reload-on-save'));
    const bare = rows.find((r) => r.runtime === kind && r.method.startsWith('bare'));
    const d = rows.find((r) => r.runtime === kind && r.method.startsWith('broken'));
    if (!ours || !bare || !d) continue;
    const target = kind === 'podman' ? `ratio p50 ${(ours.p50 / bare.p50).toFixed(2)}x bare (target <= 1.3x)` : `p50 ${ours.p50.toFixed(0)} ms (target <= 150 ms)`;
    console.log(`${kind}: ${target}; diagnostics p50 ${d.p50.toFixed(0)} ms, p95 ${d.p95.toFixed(0)} ms (target <= 300 ms)`);
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
