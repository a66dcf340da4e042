import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';

/** One kind of request the generator sends: where, and with which TLS identity (rotated per request). */
export interface Target {
  label: string;
  send(i: number): Promise<{ status: number; body: string }>;
}

export interface LoadResult {
  label: string;
  concurrency: number;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  firstError?: string;
}

/** Closed-loop load: `concurrency` loops, each sending the next request when its last one ends, bounded in count and time. */
export async function runLoad(target: Target, concurrency: number, maxRequests: number, maxSeconds: number, ok: (r: { status: number; body: string }, i: number) => boolean): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + maxSeconds * 1000;
  const loop = async () => {
    while (next < maxRequests && Date.now() < deadline) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      try {
        const r = await target.send(i);
        if (!ok(r, i)) { errors++; firstError ??= `status ${r.status}: ${r.body.slice(0, 120)}`; }
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { label: target.label, concurrency, requests: latencies.length, errors, seconds, rps: latencies.length / seconds, p50: pct(50), p99: pct(99), firstError };
}

function collect(res: http.IncomingMessage, resolve: (r: { status: number; body: string }) => void): void {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => (body += d));
  res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
}

/**
 * A new TLS connection per request, like iPXE (no keep-alive, no session reuse: the server has no session cache or
 * tickets), with the i-th client identity. Each identity's TLS context is built once: parsing PEM keys per request would
 * make the load generator, not the server, the thing being measured.
 */
export function httpsTarget(label: string, port: number, urlPath: string, ca: Buffer, identities: { cert: Buffer; key: Buffer }[]): Target {
  const contexts = identities.map((id) => tls.createSecureContext({ ca, cert: id.cert, key: id.key }));
  return {
    label,
    send: (i) => new Promise((resolve, reject) => {
      const secureContext = contexts[i % contexts.length]!;
      const options: https.RequestOptions & tls.ConnectionOptions = { host: '127.0.0.1', servername: 'localhost', port, path: urlPath, agent: false, secureContext, timeout: 30_000, headers: { connection: 'close' } };
      const req = https.request(options, (res) => collect(res, resolve));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    }),
  };
}

/** Straight to a unix socket with nginx's headers (the application alone), a new connection per request. */
export function socketTarget(label: string, socket: string, urlPath: string, headers: (i: number) => Record<string, string>): Target {
  return {
    label,
    send: (i) => new Promise((resolve, reject) => {
      const req = http.request({ socketPath: socket, path: urlPath, agent: false, headers: { ...headers(i), connection: 'close' }, timeout: 30_000 }, (res) => collect(res, resolve));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    }),
  };
}
