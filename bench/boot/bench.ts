/**
 * Boot service benchmark: through the product's generated mutual-TLS nginx config (its keepalive upstream to the boot
 * service), a new TLS connection per request like iPXE, 200 distinct client certificates, side by side in the same run:
 *   static  — nginx serving a static file (same TLS): the ceiling
 *   boot    — the boot service (`ipxe-farm serve`, its own process) behind nginx on its unix socket (upstream keepalive)
 *   flask   — the seed's Flask app under `gunicorn --workers=2` behind the same nginx, on a unix socket (no upstream
 *             keepalive: nginx's default HTTP/1.0 proxying, and gunicorn's sync workers close after every answer)
 * Server CPU per request (utime + stime from /proc of nginx's processes and of the application's) is the measure: the
 * targets are (nginx + service) ≤ 1.10 × nginx for the static file, and the service ≤ 0.05 ms per request.
 * Then each application alone on its socket, driven by bench/boot/loadgen.c (C, epoll) with nginx's headers:
 * persistent connections as nginx's upstream keepalive holds them (reconnecting whenever the server closes), and a new
 * connection per request: what the application costs without the wake-ups of a lightly loaded process.
 * Loopback only; bounded in requests and seconds. Run (from the repository root): npm run bench -- boot [options]
 * Options: --clients 200 --requests 6000 --seconds 120 --concurrency 50,500 --alone-requests 100000 --alone-seconds 10
 *          --alone-concurrency 32 --rounds 3 --only all|e2e|alone --nginx-workers N --nginx-connections N
 *          --service-node-options "--cpu-prof --cpu-prof-dir=DIR"
 */
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { tempFarm } from '../../test/support/farm';
import { freePort } from '../../test/support/ports';
import { farmLayout } from '../../src/core/farm/layout';
import { updateFarm } from '../../src/core/farm/load';
import { initCa, issueClients, issueServer, pkiPaths, readPkiIndex } from '../../src/core/pki';
import { setSecret } from '../../src/core/secrets/store';
import { loadBootState } from '../../src/core/boot/state';
import { renderScript } from '../../src/core/boot/render';
import { which } from '../../src/core/process/light';
import { httpsTarget, LoadResult, runLoad } from './loadgen';
import { cpuMs, processTree, sysMs } from './cpu';
import { buildC, CLoadResult, runCLoad, runTlsLoad, writeIdsFile } from './cLoadgen';
import { ProductNginx, startProductNginx } from './productNginx';
import { openFarm } from '../../src/core/farm/handle';

const { values: o } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    // A fixed number of requests per target and concurrency; the seconds only bound a run on a stalled machine.
    requests: { type: 'string', default: '6000' },
    seconds: { type: 'string', default: '120' },
    concurrency: { type: 'string', default: '50,500' },
    'alone-requests': { type: 'string', default: '100000' },
    'alone-seconds': { type: 'string', default: '10' },
    // Connections kept to the application, as nginx keeps them under a moderate load (the product allows up to 256 idle).
    'alone-concurrency': { type: 'string', default: '32' },
    only: { type: 'string', default: 'all' },
    // Node options for the boot service's process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to see where its CPU goes.
    'service-node-options': { type: 'string', default: '' },
    // Each measurement is split into this many alternating rounds; req/s and latencies are the rounds' medians.
    rounds: { type: 'string', default: '3' },
    // The generated nginx.conf's sizes unless given (see productNginx.ts).
    'nginx-workers': { type: 'string' },
    'nginx-connections': { type: 'string' },
  },
});

const repo = process.cwd();
const benchDir = path.join(repo, 'bench', 'boot');
const children: ChildProcess[] = [];
let nginx: ProductNginx | undefined;
let scratchDir: string | undefined;

function waitFor(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (cond() ? resolve() : Date.now() > until ? reject(new Error(`${what} did not happen within ${ms} ms`)) : setTimeout(tick, 50));
    tick();
  });
}

/** CPU ms per request by process group; `app` is the application behind nginx in this row (none for the static file). */
interface Measured extends LoadResult { cpu: Record<string, number>; app?: 'boot' | 'flask' | 'bare' }

/** Server CPU per request: nginx plus the row's application. */
function serverMs(m: Measured): number {
  return m.cpu.nginx! + (m.app ? m.cpu[m.app]! : 0);
}

function cpuText(m: Measured): string {
  return `${serverMs(m).toFixed(3).padStart(6)} = nginx ${m.cpu.nginx!.toFixed(3)}${m.app ? ` + ${m.app} ${m.cpu[m.app]!.toFixed(3)}` : ''}   loadgen ${m.cpu.loadgen!.toFixed(3)}`;
}

type Combined = CLoadResult & { rps: number };

const median = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2; };

/** Rounds of one target as one row: counts and CPU summed, req/s and latencies the median round's. */
function combine(runs: CLoadResult[]): Combined {
  const sum = (f: (r: CLoadResult) => number) => runs.reduce((a, r) => a + f(r), 0);
  return {
    requests: sum((r) => r.requests), errors: sum((r) => r.errors), seconds: sum((r) => r.seconds), connects: sum((r) => r.connects),
    retries: sum((r) => r.retries), cpuMs: sum((r) => r.cpuMs), firstError: runs.find((r) => r.firstError)?.firstError ?? '',
    rps: median(runs.map((r) => r.requests / r.seconds)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)),
  };
}

function loadAverage(): string {
  return `load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`;
}

function row(r: LoadResult): string {
  return `${r.label.padEnd(48)} ${String(r.concurrency).padStart(5)} ${String(r.requests).padStart(7)} ${String(r.errors).padStart(6)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)}${r.firstError ? `   first error: ${r.firstError}` : ''}`;
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(benchDir, 'flask_app.py'))) throw new Error('Run from the repository root (bench/boot/flask_app.py not found).');
  for (const p of ['nginx', 'gunicorn']) if (!which(p) && !fs.existsSync(`/usr/sbin/${p}`)) throw new Error(`${p} is not installed (apt-get install nginx gunicorn python3-flask).`);
  const nClients = Number(o.clients);
  const t0 = Date.now();
  // Issuing 200 RSA keys takes a while on a busy machine: the farm is kept between runs (a temp folder, by size).
  const cacheDir = path.join(os.tmpdir(), `ipxe-farm-bench-farm-${nClients}`);
  const root = path.join(cacheDir, 'bench');
  const names = Array.from({ length: nClients }, (_, i) => `c${String(i).padStart(3, '0')}`);
  const ready = fs.existsSync(path.join(cacheDir, 'ready'));
  if (!ready) {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    const made = await tempFarm('bench');
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.renameSync(made, root);
    const h = await openFarm(root);
    await initCa(h);
    await issueServer(h);
    await issueClients(h, names);
    fs.writeFileSync(path.join(cacheDir, 'ready'), '');
  }
  fs.chmodSync(cacheDir, 0o711);
  const layout = farmLayout(root);
  fs.writeFileSync(path.join(layout.files, 'vmlinuz'), 'k');
  await setSecret(root, 'minio', 'bbz,,0028ce5566be8940000000002,K002rfqoZWg6fN9Dckrz/Phk1mb+q1s');
  await updateFarm(root, (raw) => {
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = {
      ci: {
        kernel: 'vmlinuz', initrds: [], verify: false, extra: [],
        cmdline: 'b2c.minio="{{secret.minio}}" b2c.volume="perm,mirror=bbz/{{client.name}}-perm,pull_on=pipeline_start" host={{client.name}} console=ttyS0',
      },
    };
    raw.clients = Object.fromEntries(names.map((n) => [n, { profile: 'ci', macs: [], vars: {} }]));
  });
  console.log(`# farm with ${nClients} client certificates ${ready ? 'reused' : 'made'} in ${((Date.now() - t0) / 1000).toFixed(1)} s (${root})`);

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-bench-'));
  scratchDir = scratch;
  fs.chmodSync(scratch, 0o711);

  // The farm is kept between runs but its boot events are not: each run appends ~300,000 lines, and the secret check
  // below reads this run's log whole (it failed once the file passed Node's 512 MB string limit).
  fs.rmSync(layout.bootEvents, { force: true });

  // The boot service in its own process, as in production.
  const esbuild = await import('esbuild');
  const serveJs = path.join(scratch, 'serve.js');
  // A package's ES module build first, as scripts/bench.mjs: jsonc-parser's UMD build hides its requires from esbuild.
  await esbuild.build({ entryPoints: [path.join(benchDir, 'serveEntry.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], outfile: serveJs, logLevel: 'error' });
  let serveLog = '';
  const serve = spawn(process.execPath, [...String(o['service-node-options']).split(' ').filter(Boolean), serveJs, root], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(serve);
  serve.stderr!.setEncoding('utf8').on('data', (d: string) => (serveLog += d));
  await waitFor(() => serveLog.includes('listening on') || serve.exitCode !== null, 'the boot service start');
  if (serve.exitCode !== null) throw new Error(`the boot service did not start: ${serveLog}`);

  // The Flask app gets the very scripts the boot service renders, keyed by fingerprint.
  const state = await loadBootState(root);
  const index = await readPkiIndex(root);
  const mapping: Record<string, { name: string; script: string }> = {};
  const fingerprints: string[] = [];
  for (const n of names) {
    const rec = index.records.find((r) => r.kind === 'client' && r.name === n && r.status === 'valid')!;
    fingerprints.push(rec.sha1);
    mapping[rec.sha1] = { name: n, script: renderScript({ farm: state.farm, layout, secrets: state.secrets, clientName: n, client: state.farm.clients[n], profileName: 'ci' }).script };
  }
  const mappingFile = path.join(scratch, 'mapping.json');
  fs.writeFileSync(mappingFile, JSON.stringify(mapping));
  const staticFile = path.join(scratch, 'static.ipxe');
  fs.writeFileSync(staticFile, mapping[fingerprints[0]!]!.script);
  fs.chmodSync(staticFile, 0o644);

  const flaskSock = path.join(scratch, 'flask.sock');
  const gunicorn = spawn('gunicorn', ['--workers=2', '-b', `unix:${flaskSock}`, '--chdir', benchDir, '--log-level', 'warning', 'wsgi:app'], {
    stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, BOOT_MAPPING: mappingFile, PYTHONDONTWRITEBYTECODE: '1' },
  });
  children.push(gunicorn);
  await waitFor(() => fs.existsSync(flaskSock), 'gunicorn start');
  fs.chmodSync(flaskSock, 0o666);

  // The node:http floor: the same scripts from a Map, nothing else (bareNode.ts).
  const bareJs = path.join(scratch, 'bareNode.js');
  await esbuild.build({ entryPoints: [path.join(benchDir, 'bareNode.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: bareJs, logLevel: 'error' });
  const bareSock = path.join(scratch, 'bare.sock');
  let bareLog = '';
  const bare = spawn(process.execPath, [bareJs, mappingFile, bareSock], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(bare);
  bare.stderr!.setEncoding('utf8').on('data', (d: string) => (bareLog += d));
  await waitFor(() => bareLog.includes('listening') || bare.exitCode !== null, 'the bare node:http server start');
  if (bare.exitCode !== null) throw new Error(`the bare node:http server did not start: ${bareLog}`);

  const port = await freePort();
  nginx = await startProductNginx({
    farm: state.farm, layout, port, workers: o['nginx-workers'] === undefined ? undefined : Number(o['nginx-workers']), connections: o['nginx-connections'] === undefined ? undefined : Number(o['nginx-connections']), dir: path.join(scratch, 'nginx'), user: process.getuid?.() === 0 ? 'www-data' : undefined,
    extraLocations: `    location = /static.ipxe { alias ${staticFile}; }
    location = /flask/boot.ipxe { proxy_pass http://unix:${flaskSock}:/boot.ipxe; }
    location = /bare/boot.ipxe { proxy_pass http://bench_bare_node/boot.ipxe; }`,
    // The same upstream settings as the generated one to the boot service, so the floor row differs only in the server.
    extraHttp: `upstream bench_bare_node {\n    server unix:${bareSock};\n    keepalive 256;\n    keepalive_timeout 30s;\n}\n`,
  });

  const p = pkiPaths(layout);
  const ca = fs.readFileSync(p.caCert);
  const ids = names.map((n) => ({ cert: fs.readFileSync(p.clientCert(n)), key: fs.readFileSync(p.clientKey(n)) }));
  const ownScript = (r: { status: number; body: string }, i: number) => r.status === 200 && r.body.startsWith('#!ipxe') && r.body.includes(` host=${names[i % names.length]} `);
  const targets = [
    { t: httpsTarget('nginx static file', port, '/static.ipxe', ca, ids), ok: (r: { status: number; body: string }) => r.status === 200 && r.body.startsWith('#!ipxe'), path: '/static.ipxe', check: 'any' as const, app: undefined },
    { t: httpsTarget('nginx -> boot service (keepalive)', port, '/boot.ipxe', ca, ids), ok: ownScript, path: '/boot.ipxe', check: 'own' as const, app: 'boot' as const },
    { t: httpsTarget('nginx -> Flask/gunicorn x2 (new conn)', port, '/flask/boot.ipxe', ca, ids), ok: ownScript, path: '/flask/boot.ipxe', check: 'own' as const, app: 'flask' as const },
    { t: httpsTarget('nginx -> bare node:http (keepalive)', port, '/bare/boot.ipxe', ca, ids), ok: ownScript, path: '/bare/boot.ipxe', check: 'own' as const, app: 'bare' as const },
  ];
  const only = String(o.only);
  if (!['all', 'e2e', 'alone'].includes(only)) throw new Error(`--only must be all, e2e or alone, not "${only}".`);

  // The service's own counters (SIGUSR2): connections accepted vs requests answered.
  const serviceStats = async (): Promise<{ connections: number; requests: number }> => {
    const from = serveLog.length;
    serve.kill('SIGUSR2');
    await waitFor(() => /stats connections=\d+ requests=\d+\n/.test(serveLog.slice(from)), 'the boot service counters', 5000);
    const m = /stats connections=(\d+) requests=(\d+)/.exec(serveLog.slice(from))!;
    return { connections: Number(m[1]), requests: Number(m[2]) };
  };

  const header = `${'target (mutual TLS, new connection per request)'.padEnd(48)} ${'conc'.padStart(5)} ${'reqs'.padStart(7)} ${'errors'.padStart(6)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}   server CPU ms per request = nginx + app   loadgen`;
  const groups = { nginx: [nginx.pid], boot: [serve.pid!], flask: [gunicorn.pid!], bare: [bare.pid!], loadgen: [process.pid] };
  const e2e: Measured[] = [];
  const upstream: string[] = [];
  if (only !== 'alone') {
    // The measured load comes from tlsload.c (OpenSSL, epoll): the Node client spent ≈ 5 ms CPU per handshake.
    const tlsload = buildC(benchDir, scratch, 'tlsload');
    const tlsIds = path.join(scratch, 'tls-ids.tsv');
    fs.writeFileSync(tlsIds, names.map((n) => `${n}\t${p.clientCert(n)}\t${p.clientKey(n)}\n`).join(''));
    // Warm-up: every path works (checked by the Node client too) before anything is measured.
    for (const { t, ok } of targets) {
      const w = await runLoad(t, 8, 40, 20, ok);
      if (w.errors) throw new Error(`${t.label} fails before the benchmark: ${w.firstError}`);
    }
    console.log(`\n# end to end through the product's nginx config (upstream keepalive 256; worker_processes ${o['nginx-workers'] ?? 'auto (generated)'}, worker_connections ${o['nginx-connections'] ?? '4096 (generated)'}), a new TLS 1.2 connection per request, ${nClients} client certificates   [${loadAverage()}]`);
    console.log(header);
    const rounds = Math.max(1, Number(o.rounds));
    for (const c of String(o.concurrency).split(',').map(Number)) {
      // Targets take turns, `rounds` times, so that a burst of other work on the shared machine hits all of them alike.
      const runs = targets.map(() => ({ raw: [] as CLoadResult[], cpu: {} as Record<string, number>, connections: 0, requests: 0 }));
      for (let round = 0; round < rounds; round++) {
        for (const [k, { t, path: urlPath, check }] of targets.entries()) {
          const before = t.label.includes('boot service') ? await serviceStats() : undefined;
          const trees = Object.fromEntries(Object.entries(groups).filter(([g]) => g !== 'loadgen').map(([g, pids]) => [g, processTree(pids)]));
          const cpu0 = Object.fromEntries(Object.entries(trees).map(([g, pids]) => [g, cpuMs(pids)]));
          const sys0 = Object.fromEntries(Object.entries(trees).map(([g, pids]) => [`${g} system`, sysMs(pids)]));
          const raw = await runTlsLoad(tlsload, port, urlPath, c, Math.ceil(Number(o.requests) / rounds), Number(o.seconds) / rounds, p.caCert, tlsIds, check);
          for (const [g, pids] of Object.entries(trees)) {
            runs[k]!.cpu[g] = (runs[k]!.cpu[g] ?? 0) + cpuMs(pids) - cpu0[g]!;
            runs[k]!.cpu[`${g} system`] = (runs[k]!.cpu[`${g} system`] ?? 0) + sysMs(pids) - sys0[`${g} system`]!;
          }
          // The generator has exited when /proc is read again: its own getrusage figure is the one to trust.
          runs[k]!.cpu.loadgen = (runs[k]!.cpu.loadgen ?? 0) + raw.cpuMs;
          runs[k]!.raw.push(raw);
          if (before) {
            const after = await serviceStats();
            runs[k]!.connections += after.connections - before.connections;
            runs[k]!.requests += after.requests - before.requests;
          }
        }
      }
      for (const [k, { t, app }] of targets.entries()) {
        const m = combine(runs[k]!.raw);
        const r: Measured = { app, label: t.label, concurrency: c, requests: m.requests, errors: m.errors, seconds: m.seconds, rps: m.rps, p50: m.p50, p99: m.p99, firstError: m.firstError || undefined, cpu: Object.fromEntries(Object.entries(runs[k]!.cpu).map(([g, ms]) => [g, ms / Math.max(1, m.requests)])) };
        e2e.push(r);
        console.log(`${row(r)}   ${cpuText(r)}`);
        if (t.label.includes('boot service')) upstream.push(`concurrency ${c}: the boot service accepted ${runs[k]!.connections} connections from nginx for ${runs[k]!.requests} requests`);
      }
    }
    console.log(`# ${loadAverage()}`);
  }

  const alone: { label: string; app: string; mode: string; r: Combined; cpu: number }[] = [];
  if (only !== 'e2e') {
    const loadgen = buildC(benchDir, scratch, 'loadgen');
    const idsFile = path.join(scratch, 'ids.tsv');
    writeIdsFile(idsFile, names.map((n) => index.records.find((r) => r.kind === 'client' && r.name === n && r.status === 'valid')!));
    const ac = Number(o['alone-concurrency']);
    console.log(`\n# the application alone on its unix socket, nginx's headers, C load generator (epoll), ${ac} connections   [${loadAverage()}]`);
    console.log(`${'target'.padEnd(34)} ${'mode'.padStart(10)} ${'reqs'.padStart(7)} ${'errors'.padStart(6)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'connects'.padStart(8)}   CPU ms per request`);
    const apps = [
      { label: 'boot service alone', app: 'boot', socket: layout.bootSocket, pid: serve.pid! },
      { label: 'Flask/gunicorn x2 alone', app: 'flask', socket: flaskSock, pid: gunicorn.pid! },
    ];
    const rounds = Math.max(1, Number(o.rounds));
    for (const mode of ['keep', 'close'] as const) {
      const runs = apps.map(() => ({ raw: [] as CLoadResult[], cpu: 0 }));
      for (let round = 0; round < rounds; round++) {
        for (const [k, a] of apps.entries()) {
          const tree = processTree([a.pid]);
          const before = cpuMs(tree);
          runs[k]!.raw.push(await runCLoad(loadgen, a.socket, ac, Math.ceil(Number(o['alone-requests']) / rounds), Number(o['alone-seconds']) / rounds, mode, idsFile));
          runs[k]!.cpu += cpuMs(tree) - before;
        }
      }
      for (const [k, a] of apps.entries()) {
        const r = combine(runs[k]!.raw);
        const cpu = runs[k]!.cpu / Math.max(1, r.requests);
        alone.push({ label: a.label, app: a.app, mode, r, cpu });
        const modeText = mode === 'keep' ? 'keepalive' : 'new conn';
        console.log(`${a.label.padEnd(34)} ${modeText.padStart(10)} ${String(r.requests).padStart(7)} ${String(r.errors).padStart(6)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.connects).padStart(8)}   ${a.app} ${cpu.toFixed(3)}, loadgen ${(r.cpuMs / Math.max(1, r.requests)).toFixed(3)}${r.retries ? `   retries ${r.retries}` : ''}${r.firstError ? `   first error: ${r.firstError}` : ''}`);
      }
    }
    console.log(`# ${loadAverage()}`);
  }

  console.log('\n# summary (server CPU per request: nginx master + workers, and the application\'s processes, from /proc)');
  for (const c of only === 'alone' ? [] : String(o.concurrency).split(',').map(Number)) {
    const at = (app: Measured['app']) => e2e.find((r) => r.concurrency === c && r.app === app)!;
    const [s, b, f, n] = [at(undefined), at('boot'), at('flask'), at('bare')];
    const ratio = (r: Measured) => serverMs(r) / serverMs(s);
    console.log(`concurrency ${c}: boot path (nginx + service) ${serverMs(b).toFixed(3)} ms = ${ratio(b).toFixed(3)} x the static file's ${serverMs(s).toFixed(3)} ms (target <= 1.10: ${ratio(b) <= 1.1 ? 'met' : 'NOT met'}); `
      + `service ${b.cpu.boot!.toFixed(3)} ms, ${b.cpu['boot system']!.toFixed(3)} of it in the kernel (target <= 0.05: ${b.cpu.boot! <= 0.05 ? 'met' : 'NOT met'}); `
      + `Flask path ${serverMs(f).toFixed(3)} ms = ${ratio(f).toFixed(3)} x (gunicorn ${f.cpu.flask!.toFixed(3)} ms, no upstream keepalive); `
      + `node:http floor: a bare node:http server behind the same upstream ${n.cpu.bare!.toFixed(3)} ms, its path ${ratio(n).toFixed(3)} x; errors boot ${b.errors}, static ${s.errors}, flask ${f.errors}, bare ${n.errors}`);
  }
  for (const u of upstream) console.log(`upstream keepalive, ${u}`);
  // While nginx serves the static file the service answers nothing: what it spends then (timers, its reloader's safety
  // poll, V8's background work) is a cost per second, not per request, which the boot rows' figure includes.
  const idle = e2e.filter((r) => r.app === undefined);
  if (idle.length) {
    const ms = idle.reduce((a, r) => a + r.cpu.boot! * r.requests, 0);
    const sec = idle.reduce((a, r) => a + r.seconds, 0);
    console.log(`the boot service while idle (the static-file rows): ${ms.toFixed(0)} ms CPU in ${sec.toFixed(1)} s = ${(ms / sec).toFixed(2)} ms per second`);
  }
  for (const mode of only === 'e2e' ? [] : ['keep', 'close']) {
    const b = alone.find((x) => x.app === 'boot' && x.mode === mode)!;
    const f = alone.find((x) => x.app === 'flask' && x.mode === mode)!;
    const how = mode === 'keep' ? 'as nginx talks to it (keepalive; gunicorn closes every connection)' : 'a new connection per request';
    console.log(`alone, ${how}: CPU per request boot service ${b.cpu.toFixed(3)} ms, Flask/gunicorn ${f.cpu.toFixed(3)} ms (${(f.cpu / b.cpu).toFixed(1)}x); ${b.r.rps.toFixed(0)} vs ${f.r.rps.toFixed(0)} req/s`);
  }
  const leaked = [nginx.accessLog, nginx.errorLog, layout.bootEvents].filter((f) => fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes('K002rfqoZWg6fN9Dckrz')).concat(serveLog.includes('K002rfqoZWg6fN9Dckrz') ? ['service log'] : []);
  console.log(`secret in logs: ${leaked.length ? leaked.join(', ') : 'none'}`);
}

main()
  .catch((err) => { console.error(`bench failed: ${(err as Error).stack ?? err}`); process.exitCode = 1; })
  .finally(async () => {
    await nginx?.stop().catch(() => undefined);
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    // The farm with its 200 keys stays for the next run; this run's sockets, configs and logs go.
    await new Promise((r) => setTimeout(r, 500));
    if (scratchDir) fs.rmSync(scratchDir, { recursive: true, force: true });
  });
