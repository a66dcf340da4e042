import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What bench/boot/loadgen.c prints: its own CPU time, so it is counted even though it has exited when read. */
export interface CLoadResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
  connects: number;
  retries: number;
  cpuMs: number;
  firstError: string;
}

/** Compile one of the C load generators into `dir` (gcc -O2); a clear sentence when gcc or a library is missing. */
export function buildC(benchDir: string, dir: string, name: 'loadgen' | 'tlsload'): string {
  const out = path.join(dir, name);
  const libs = name === 'tlsload' ? ['-lssl', '-lcrypto'] : [];
  const r = spawnSync('gcc', ['-O2', '-Wall', '-o', out, path.join(benchDir, `${name}.c`), ...libs], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`Cannot compile bench/boot/${name}.c (apt-get install gcc${libs.length ? ' libssl-dev' : ''}): ${r.error?.message ?? r.stderr}`);
  return out;
}

/** One line per client for loadgen.c: name, fingerprint, serial, subject DN (what nginx would pass upstream). */
export function writeIdsFile(file: string, ids: { name: string; sha1: string; serial: string; subject: string }[]): void {
  for (const i of ids) if (/[\t\r\n]/.test(`${i.name}${i.sha1}${i.serial}${i.subject}`)) throw new Error(`client ${i.name} has a tab or newline in its identity`);
  fs.writeFileSync(file, ids.map((i) => `${i.name}\t${i.sha1}\t${i.serial}\t${i.subject}\n`).join(''));
}

function runBinary(bin: string, args: string[]): Promise<CLoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${path.basename(bin)} exited with ${code}: ${err}`));
      try { resolve(JSON.parse(out) as CLoadResult); } catch { reject(new Error(`${path.basename(bin)} printed no result: ${out}${err}`)); }
    });
  });
}

/** loadgen.c: HTTP on a unix socket with nginx's headers, persistent (`keep`) or new (`close`) connections. */
export function runCLoad(bin: string, socket: string, concurrency: number, maxRequests: number, seconds: number, mode: 'keep' | 'close', idsFile: string): Promise<CLoadResult> {
  return runBinary(bin, [socket, String(concurrency), String(maxRequests), String(seconds), mode, idsFile]);
}

/** tlsload.c: HTTPS on 127.0.0.1:port, a new TLS 1.2 connection per request with the i-th client certificate. */
export function runTlsLoad(bin: string, port: number, urlPath: string, concurrency: number, maxRequests: number, seconds: number, caFile: string, idsFile: string, check: 'own' | 'any'): Promise<CLoadResult> {
  return runBinary(bin, [String(port), urlPath, String(concurrency), String(maxRequests), String(seconds), caFile, idsFile, check]);
}
