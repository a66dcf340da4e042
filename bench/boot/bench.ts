/**
 * Boot service benchmark: through one mutual-TLS nginx (worker_processes 2), a new TLS connection per request like
 * iPXE, 200 distinct client certificates, side by side in the same run:
 *   static  — nginx serving a static file (same TLS): the ceiling
 *   boot    — the boot service (`ipxe-farm serve`, its own process) behind nginx on its unix socket
 *   flask   — the seed's Flask app under `gunicorn --workers=2` behind the same nginx, on a unix socket
 * and then each application alone on its socket (nginx's headers, a new connection per request).
 * Loopback only; bounded in requests and seconds. Run (from the repository root):
 *   npx esbuild bench/boot/bench.ts --bundle --platform=node --outfile=out/bench/boot.js --external:esbuild && node out/bench/boot.js
 * Options: --clients 200 --requests 4000 --seconds 20 --concurrency 50,500 --alone-requests 20000 --alone-seconds 10
 */
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { tempFarm } from '../../test/support/farm';
import { freePort } from '../../test/support/ports';
import { startMtlsNginx, MtlsNginx } from '../../test/integration/boot/mtlsNginx';
import { farmLayout } from '../../src/core/farm/layout';
import { updateFarm } from '../../src/core/farm/load';
import { initCa, issueClients, issueServer, pkiPaths, readPkiIndex } from '../../src/core/pki';
import { setSecret } from '../../src/core/secrets/store';
import { loadBootState } from '../../src/core/boot/state';
import { renderScript } from '../../src/core/boot/render';
import { which } from '../../src/core/process/run';
import { httpsTarget, LoadResult, runLoad, socketTarget } from './loadgen';
import { cpuMs, processTree } from './cpu';

const { values: o } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    requests: { type: 'string', default: '4000' },
    seconds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '50,500' },
    'alone-requests': { type: 'string', default: '20000' },
    'alone-seconds': { type: 'string', default: '10' },
    'alone-concurrency': { type: 'string', default: '32' },
  },
});

const repo = process.cwd();
const benchDir = path.join(repo, 'bench', 'boot');
const children: ChildProcess[] = [];
let nginx: MtlsNginx | undefined;

function waitFor(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (cond() ? resolve() : Date.now() > until ? reject(new Error(`${what} did not happen within ${ms} ms`)) : setTimeout(tick, 50));
    tick();
  });
}

interface Measured extends LoadResult { cpu: Record<string, number> }

/** Run a load and the CPU milliseconds per request each named group of processes spent on it. */
async function measured(groups: Record<string, number[]>, load: () => Promise<LoadResult>): Promise<Measured> {
  const trees = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, processTree(pids)]));
  const before = Object.fromEntries(Object.entries(trees).map(([k, pids]) => [k, cpuMs(pids)]));
  const r = await load();
  const cpu = Object.fromEntries(Object.entries(trees).map(([k, pids]) => [k, (cpuMs(pids) - before[k]!) / Math.max(1, r.requests)]));
  return { ...r, cpu };
}

function cpuText(m: Measured): string {
  return Object.entries(m.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
}

function row(r: LoadResult): string {
  return `${r.label.padEnd(34)} ${String(r.concurrency).padStart(5)} ${String(r.requests).padStart(7)} ${String(r.errors).padStart(6)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)}${r.firstError ? `   first error: ${r.firstError}` : ''}`;
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
    await initCa(root);
    await issueServer(root);
    await issueClients(root, names);
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
  fs.chmodSync(scratch, 0o711);

  // The boot service in its own process, as in production.
  const esbuild = await import('esbuild');
  const serveJs = path.join(scratch, 'serve.js');
  await esbuild.build({ entryPoints: [path.join(benchDir, 'serveEntry.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: serveJs, logLevel: 'error' });
  let serveLog = '';
  const serve = spawn(process.execPath, [serveJs, root], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(serve);
  serve.stderr!.setEncoding('utf8').on('data', (d: string) => (serveLog += d));
  await waitFor(() => serveLog.includes('listening on'), 'the boot service start');

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

  const [strict, optional] = [await freePort(), await freePort()];
  nginx = await startMtlsNginx({
    root, strictPort: strict, optionalPort: optional, workers: 2, user: process.getuid?.() === 0 ? 'www-data' : undefined,
    extraLocations: `location = /static.ipxe { alias ${staticFile}; }
        location = /flask/boot.ipxe { proxy_pass http://unix:${flaskSock}:/boot.ipxe; }`,
  }, path.join(scratch, 'nginx'));
  // Keep the access log out of the measurement's way (one write per request for all three targets alike).

  const p = pkiPaths(layout);
  const ca = fs.readFileSync(p.caCert);
  const ids = names.map((n) => ({ cert: fs.readFileSync(p.clientCert(n)), key: fs.readFileSync(p.clientKey(n)) }));
  const ownScript = (r: { status: number; body: string }, i: number) => r.status === 200 && r.body.startsWith('#!ipxe') && r.body.includes(` host=${names[i % names.length]} `);
  const targets = [
    { t: httpsTarget('nginx static file (mTLS)', strict, '/static.ipxe', ca, ids), ok: (r: { status: number; body: string }) => r.status === 200 && r.body.startsWith('#!ipxe') },
    { t: httpsTarget('nginx -> boot service (mTLS)', strict, '/boot.ipxe', ca, ids), ok: ownScript },
    { t: httpsTarget('nginx -> Flask/gunicorn x2 (mTLS)', strict, '/flask/boot.ipxe', ca, ids), ok: ownScript },
  ];
  // Warm-up: every path works before anything is measured.
  for (const { t, ok } of targets) {
    const w = await runLoad(t, 8, 40, 20, ok);
    if (w.errors) throw new Error(`${t.label} fails before the benchmark: ${w.firstError}`);
  }

  const header = `${'target'.padEnd(34)} ${'conc'.padStart(5)} ${'reqs'.padStart(7)} ${'errors'.padStart(6)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}   CPU ms per request`;
  const nginxPid = Number(fs.readFileSync(path.join(scratch, 'nginx', 'nginx.pid'), 'utf8').trim());
  const groups = { nginx: [nginxPid], boot: [serve.pid!], flask: [gunicorn.pid!], loadgen: [process.pid] };
  console.log(`\n# end to end through nginx (worker_processes 2), a new TLS 1.2 connection per request, ${nClients} client certificates`);
  console.log(header);
  const e2e: Measured[] = [];
  for (const c of String(o.concurrency).split(',').map(Number)) {
    for (const { t, ok } of targets) {
      const r = await measured(groups, () => runLoad(t, c, Number(o.requests), Number(o.seconds), ok));
      e2e.push(r);
      console.log(`${row(r)}   ${cpuText(r)}`);
    }
  }

  console.log(`\n# the application alone on its unix socket (nginx's headers), a new connection per request`);
  console.log(header);
  const headers = (i: number) => ({ 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': fingerprints[i % fingerprints.length]! });
  const ac = Number(o['alone-concurrency']);
  const bootAlone = await measured({ boot: [serve.pid!], loadgen: [process.pid] }, () => runLoad(socketTarget('boot service alone', layout.bootSocket, '/boot.ipxe', headers), ac, Number(o['alone-requests']), Number(o['alone-seconds']), ownScript));
  console.log(`${row(bootAlone)}   ${cpuText(bootAlone)}`);
  const flaskAlone = await measured({ flask: [gunicorn.pid!], loadgen: [process.pid] }, () => runLoad(socketTarget('Flask/gunicorn x2 alone', flaskSock, '/boot.ipxe', headers), ac, Number(o['alone-requests']), Number(o['alone-seconds']), ownScript));
  console.log(`${row(flaskAlone)}   ${cpuText(flaskAlone)}`);

  console.log('\n# summary');
  for (const c of String(o.concurrency).split(',').map(Number)) {
    const s = e2e.find((r) => r.concurrency === c && r.label.startsWith('nginx static'))!;
    const b = e2e.find((r) => r.concurrency === c && r.label.includes('boot service'))!;
    const f = e2e.find((r) => r.concurrency === c && r.label.includes('Flask'))!;
    console.log(`concurrency ${c}: boot service end to end = ${((b.rps / s.rps) * 100).toFixed(1)} % of the static file's req/s (Flask: ${((f.rps / s.rps) * 100).toFixed(1)} %); errors boot ${b.errors}, static ${s.errors}, flask ${f.errors}`);
  }
  console.log(`alone: boot service ${bootAlone.rps.toFixed(0)} req/s vs Flask/gunicorn ${flaskAlone.rps.toFixed(0)} req/s = ${(bootAlone.rps / flaskAlone.rps).toFixed(1)}x (wall clock, shared machine)`);
  console.log(`alone, CPU per request: boot service ${bootAlone.cpu.boot!.toFixed(3)} ms vs Flask/gunicorn ${flaskAlone.cpu.flask!.toFixed(3)} ms = ${(flaskAlone.cpu.flask! / bootAlone.cpu.boot!).toFixed(1)}x less CPU`);
  for (const r of e2e.filter((x) => x.label.includes('boot service'))) {
    const s = e2e.find((x) => x.concurrency === r.concurrency && x.label.startsWith('nginx static'))!;
    console.log(`end to end, concurrency ${r.concurrency}: nginx ${r.cpu.nginx!.toFixed(2)} ms/req (static: ${s.cpu.nginx!.toFixed(2)}) + boot service ${r.cpu.boot!.toFixed(2)} ms/req: the service is ${((r.cpu.boot! / (r.cpu.nginx! + r.cpu.boot!)) * 100).toFixed(1)} % of the server-side CPU`);
  }
  const leaked = [nginx.accessLog, nginx.errorLog, layout.bootEvents].filter((f) => fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes('K002rfqoZWg6fN9Dckrz')).concat(serveLog.includes('K002rfqoZWg6fN9Dckrz') ? ['service log'] : []);
  console.log(`secret in logs: ${leaked.length ? leaked.join(', ') : 'none'}`);
}

main()
  .catch((err) => { console.error(`bench failed: ${(err as Error).stack ?? err}`); process.exitCode = 1; })
  .finally(async () => {
    await nginx?.stop().catch(() => undefined);
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  });
