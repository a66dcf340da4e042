import * as fs from 'node:fs';
import * as https from 'node:https';

export interface ClientTls { cert?: string | Buffer; key?: string | Buffer; ca: string | Buffer }

/** One request on a new TLS connection (like iPXE: no keep-alive, no session reuse). */
export function httpsGet(port: number, urlPath: string, tls: ClientTls, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', servername: 'localhost', port, path: urlPath, method: 'GET', headers,
      cert: tls.cert, key: tls.key, ca: tls.ca, agent: false, timeout: timeoutMs,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export function readTls(cert: string, key: string, ca: string): ClientTls {
  return { cert: fs.readFileSync(cert), key: fs.readFileSync(key), ca: fs.readFileSync(ca) };
}
