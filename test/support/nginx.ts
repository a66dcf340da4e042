import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { farmWithPki } from './pki';
import { updateFarm } from '../../src/core/farm/load';
import { openFarm, type FarmHandle } from '../../src/core/farm/handle';
import { resolveRuntime } from '../../src/core/farm/runtimeChoice';
import { farmLayout, FarmLayout } from '../../src/core/farm/layout';
import type { Farm, NginxRuntimeKind } from '../../src/core/farm/model';
import { pkiPaths } from '../../src/core/pki/paths';
import { generateNginxConfig } from '../../src/core/nginx/generate';
import { OFFICIAL_NGINX_IMAGE } from '../../src/core/nginx/imageChoice';
import { bootSocketAccess } from '../../src/core/socket/access';
import { openSocketToNginx, prepareSocketPath } from '../../src/core/boot/socketPath';

/** The farm opened as the CLI opens it. */
export type NginxTestFarm = FarmHandle;

/**
 * A loopback farm with its CA, server cert, clients dut1/dut2 and the generated nginx config for `runtime`. The temp
 * folder above the farm gets search permission, as a home folder has, so a local nginx's www-data workers can enter.
 */
export async function nginxTestFarm(runtime: NginxRuntimeKind): Promise<NginxTestFarm> {
  const root = await farmWithPki();
  fs.chmodSync(path.dirname(root), 0o711);
  const container = `ipxe-farm-test-${path.basename(path.dirname(root)).replace(/^ipxe-farm-test-/, '').replace(/[^a-zA-Z0-9_.-]/g, '')}`.toLowerCase();
  // The default image: the podman runtime runs the official one when it is here, else `ipxe-farm nginx image`'s.
  await updateFarm(root, (raw) => {
    raw.nginx = { runtime, image: OFFICIAL_NGINX_IMAGE, container };
  });
  await generateNginxConfig(await openFarm(root));
  return openFarm(root);
}

export interface EchoService {
  /** Every request the "boot service" received, with its headers. */
  seen: Array<{ url: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/**
 * A test double of the boot service on the farm's unix socket, with the boot service's own permissions (core's
 * socketPath.ts: a local nginx's worker group, or the podman container's mount): it answers with the headers nginx
 * sent it, so a test can see that nginx set X-SSL-Client-* and replaced what the client sent. The thing under test is
 * nginx, not this.
 */
export async function echoBootService(layout: FarmLayout, farm: Farm): Promise<EchoService> {
  const access = bootSocketAccess(farm, resolveRuntime(farm, layout).kind);
  await prepareSocketPath(layout, layout.bootSocket, access, () => undefined);
  const seen: EchoService['seen'] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(layout.bootSocket, resolve); });
  await openSocketToNginx(layout.bootSocket, access, () => undefined);
  return {
    seen,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

export interface TlsIdentity {
  cert?: Buffer;
  key?: Buffer;
}

/** The farm's CA and a client's cert+key, read from the PKI files. */
export function clientIdentity(layout: FarmLayout, client: string): TlsIdentity {
  const p = pkiPaths(layout);
  return { cert: fs.readFileSync(p.clientCert(client)), key: fs.readFileSync(p.clientKey(client)) };
}

export interface Answer {
  status?: number;
  body: string;
  /** A TLS or socket error instead of an answer. */
  error?: string;
}

/** One HTTPS request to 127.0.0.1 with a fresh connection (no session reuse), checking the server against the farm CA. */
export function httpsGet(layout: FarmLayout, port: number, urlPath: string, id: TlsIdentity, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<Answer> {
  const ca = fs.readFileSync(pkiPaths(layout).caCert);
  return new Promise((resolve) => {
    const req = https.request({
      host: '127.0.0.1', port, path: urlPath, method: 'GET', ca, cert: id.cert, key: id.key, headers, agent: false,
      servername: 'localhost', timeout: timeoutMs,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ body: '', error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end();
  });
}

export function httpGet(port: number, urlPath: string, timeoutMs = 5000): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ body: '', error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end();
  });
}

/** Poll until `check` passes or the time is up; returns whether it passed. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

export { farmLayout };
