import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FarmError, UsageError } from '../errors';
import type { Farm } from '../farm/light';
import { farmMetrics } from './collect';

/**
 * The exporter's listener: loopback by default, so only this machine reads the farm's numbers; another address only
 * when the farm file names it (/metrics/listen), never by a command-line slip alone.
 */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9464';
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`"${listen}" is not HOST:PORT.`, 'Write e.g. 127.0.0.1:9464 or [::1]:9464.');
  return { host: m[1] ?? m[2]!, port };
}

export function metricsListen(farm: Farm, requested?: string): { host: string; port: number } {
  const named = farm.metrics?.listen ?? DEFAULT_METRICS_LISTEN;
  const want = requested ?? named;
  const l = parseListen(want);
  if (!LOOPBACK.has(l.host) && want !== named) {
    throw new FarmError(
      `The metrics listener ${want} would be reachable from other machines, and the farm file does not name it.`,
      `Put "metrics": {"listen": "${want}"} in ipxe-farm.json if that is meant, or listen on 127.0.0.1.`,
      'EUNSAFE',
    );
  }
  return l;
}

export interface MetricsServer { url: string; close(): Promise<void> }

export async function startMetricsServer(root: string, listen: { host: string; port: number }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') { res.writeHead(404).end('Not found: scrape /metrics\n'); return; }
    farmMetrics(root).then(async (reg) => {
      res.writeHead(200, { 'content-type': reg.contentType }).end(await reg.metrics());
    }).catch((err: Error) => { res.writeHead(500).end(`${err.message}\n`); });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new FarmError(`Cannot listen on ${listen.host}:${listen.port} for metrics: ${err.code ?? err.message}.`, 'Pick another port with --listen, or stop what holds it.', 'EADDRINUSE')));
    server.listen(listen.port, listen.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return { url: `http://${host}:${a.port}/metrics`, close: () => new Promise((r) => server.close(() => r())) };
}
