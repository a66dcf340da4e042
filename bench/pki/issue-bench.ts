/**
 * PKI benchmark (not a test): prints figures.
 *   npx esbuild bench/pki/issue-bench.ts --bundle --platform=node --outfile=out/bench/pki-issue.js && node out/bench/pki-issue.js [N]
 * 1. N (default 200) client certificates: iPXE Farm one call per client, iPXE Farm one batch call, and the seeds'
 *    openssl loop (`openssl req -newkey rsa:2048 -nodes …` + `openssl ca -batch …` per client), side by side.
 * 2. The CA's work alone (no key generation): signing pre-made CSRs, `openssl ca -batch` vs signCsr.
 * 3. With 10,000 certificates in the index: issuing one more, and the expiry report.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initFarm } from '../../src/core/farm/init';
import { farmLayout } from '../../src/core/farm/layout';
import { expiryReport, initCa, issueClient, issueClients, pkiPaths, readPkiIndex, signCsr } from '../../src/core/pki';
import { serialiseIndex } from '../../src/core/pki/store';
import { newRsaKey } from '../../src/core/pki/keys';
import { serialToNginx } from '../../src/core/pki/serial';
import type { CertRecord } from '../../src/core/pki/types';

const N = Number(process.argv[2] ?? 200);
let t0 = 0;
const base = mkdtempSync(path.join(os.tmpdir(), 'pki-bench-'));

async function newFarm(name: string): Promise<string> {
  const root = path.join(base, name);
  await initFarm(root, { name });
  await initCa(root);
  return root;
}

function sh(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** The seed's minimal openssl CA (iPXE's crypto page): ca.cnf, ca.idx, serial, signed/. */
function opensslCa(): string {
  const dir = path.join(base, 'openssl-ca');
  mkdirSync(path.join(dir, 'signed'), { recursive: true });
  writeFileSync(path.join(dir, 'serial'), '01\n');
  writeFileSync(path.join(dir, 'ca.idx'), '');
  writeFileSync(path.join(dir, 'ca.cnf'), `[ ca ]
default_ca = ca_default
[ ca_default ]
certificate = ca.crt
private_key = ca.key
serial = serial
database = ca.idx
new_certs_dir = signed
default_md = default
policy = policy_anything
preserve = yes
default_days = 365
unique_subject = no
[ policy_anything ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
emailAddress = optional
`);
  sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=bench CA'], dir);
  return dir;
}

function rate(n: number, ms: number): string {
  return `${(n / (ms / 1000)).toFixed(2)} certs/s (${(ms / n).toFixed(1)} ms each, ${(ms / 1000).toFixed(1)} s total)`;
}

async function main(): Promise<void> {
  console.log(`# PKI benchmark: ${N} client certificates, RSA 2048; ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}`);
  // Interleaved rounds, so that the load of a shared machine falls on all three alike.
  const oneByOne = await newFarm('one');
  const batch = await newFarm('batch');
  const dir = opensslCa();
  const ROUND = Math.min(20, N);
  let msOne = 0;
  let msBatch = 0;
  let msOpenssl = 0;
  for (let done = 0; done < N; done += ROUND) {
    const n = Math.min(ROUND, N - done);
    t0 = performance.now();
    for (let i = done; i < done + n; i++) {
      sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `c${i}.key`, '-out', `c${i}.csr`, '-subj', `/CN=c${i}`], dir);
      sh(['ca', '-batch', '-config', 'ca.cnf', '-in', `c${i}.csr`, '-out', `c${i}.crt`], dir);
    }
    msOpenssl += performance.now() - t0;
    t0 = performance.now();
    for (let i = done; i < done + n; i++) await issueClient(oneByOne, `c${i}`);
    msOne += performance.now() - t0;
    t0 = performance.now();
    await issueClients(batch, Array.from({ length: n }, (_, i) => `c${done + i}`));
    msBatch += performance.now() - t0;
  }

  console.log(`openssl loop (req + ca per client):   ${rate(N, msOpenssl)}`);
  console.log(`iPXE Farm, issueClient per client:    ${rate(N, msOne)}  -> ${(msOpenssl / msOne).toFixed(2)}x openssl`);
  console.log(`iPXE Farm, issueClients (batches of ${ROUND}): ${rate(N, msBatch)}  -> ${(msOpenssl / msBatch).toFixed(2)}x openssl`);

  // The CA's own work without key generation: sign the same pre-made CSRs with `openssl ca -batch` and with signCsr.
  const M = Math.min(N, 50);
  sh(['genrsa', '-out', 'csr.key', '2048'], dir);
  for (let i = 0; i < M; i++) sh(['req', '-new', '-key', 'csr.key', '-out', `r${i}.csr`, '-subj', `/CN=r${i}`], dir);
  const csrFarm = await newFarm('csr');
  let msCaOpenssl = 0;
  let msCaOurs = 0;
  for (let i = 0; i < M; i++) {
    t0 = performance.now();
    sh(['ca', '-batch', '-config', 'ca.cnf', '-in', `r${i}.csr`, '-out', `r${i}.crt`], dir);
    msCaOpenssl += performance.now() - t0;
    const text = readFileSync(path.join(dir, `r${i}.csr`), 'utf8');
    t0 = performance.now();
    await signCsr(csrFarm, text);
    msCaOurs += performance.now() - t0;
  }
  console.log(`CA work only (${M} pre-made CSRs): openssl ca -batch ${rate(M, msCaOpenssl)}`);
  console.log(`                                 iPXE Farm signCsr  ${rate(M, msCaOurs)}  -> ${(msCaOpenssl / msCaOurs).toFixed(2)}x openssl`);

  // 10,000 certificates in the index: copy real records with fresh serials (the index is what the cost depends on).
  const big = await newFarm('big');
  await issueClient(big, 'seed');
  const p = pkiPaths(farmLayout(big));
  const idx = await readPkiIndex(big);
  const template = idx.records.find((r) => r.name === 'seed')!;
  const records: CertRecord[] = [idx.records[0]!];
  const now = Date.now();
  for (let i = 2; records.length < 10_000; i++) {
    const notAfter = new Date(now + ((i % 400) - 20) * 86_400_000).toISOString();
    records.push({ ...template, serial: serialToNginx(BigInt(i)), name: `dut${i}`, subject: `CN=dut${i},O=big`, sha1: (i.toString(16) + template.sha1).slice(0, 40), notAfter, status: i % 50 ? 'valid' : 'revoked' });
  }
  writeFileSync(p.index, serialiseIndex({ ...idx, nextSerial: serialToNginx(20_000n), records }));
  const indexBytes = readFileSync(p.index).length;
  // Against a one-client farm, alternately: the difference is what 10,000 records cost; key generation (the same
  // native RSA generator openssl uses, and the bulk of the time) is timed on its own.
  const small = await newFarm('small');
  const times: number[] = [];
  const smallTimes: number[] = [];
  const keygen: number[] = [];
  for (let i = 0; i < 7; i++) {
    t0 = performance.now();
    await issueClient(big, `extra${i}`);
    times.push(performance.now() - t0);
    t0 = performance.now();
    await issueClient(small, `extra${i}`);
    smallTimes.push(performance.now() - t0);
    t0 = performance.now();
    await newRsaKey(2048);
    keygen.push(performance.now() - t0);
  }
  const rep: number[] = [];
  let counts = '';
  for (let i = 0; i < 5; i++) {
    t0 = performance.now();
    const r = expiryReport(await readPkiIndex(big), 30);
    rep.push(performance.now() - t0);
    counts = `${r.expired.length} expired, ${r.expiring.length} expiring within 30 days, ${r.ok} ok, ${r.revoked} revoked`;
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`10,000-record index (${(indexBytes / 1048576).toFixed(1)} MiB):`);
  const runs = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(`  issue one more client: median ${med(times).toFixed(0)} ms (runs: ${runs(times)}; target <= 150 ms)`);
  console.log(`    same on a 1-client farm: median ${med(smallTimes).toFixed(0)} ms (runs: ${runs(smallTimes)})`);
  console.log(`    of which RSA-2048 key generation alone: median ${med(keygen).toFixed(0)} ms (runs: ${runs(keygen)})`);
  console.log(`    cost of the 10,000 records: median ${med(times.map((x, i) => x - smallTimes[i]!)).toFixed(0)} ms; issuance minus key generation: median ${med(times.map((x, i) => x - keygen[i]!)).toFixed(0)} ms`);
  console.log(`  expiry report (read index + report): median ${med(rep).toFixed(0)} ms (runs: ${rep.map((x) => x.toFixed(0)).join(', ')}; target <= 200 ms) [${counts}]`);
  rmSync(base, { recursive: true, force: true });
}

void main().catch((e) => { console.error(e); process.exit(1); });
