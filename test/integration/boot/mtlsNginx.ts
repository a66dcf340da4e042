import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { pkiPaths } from '../../../src/core/pki/paths';
import { start } from '../../../src/core/process/run';
import { which } from '../../../src/core/process/light';

/**
 * A minimal mutual-TLS nginx in front of the boot service, written here so the boot tests and the benchmark do not
 * depend on the nginx module's generator: DESIGN.md §2/§4 lines (TLS 1.2, iPXE's ciphers, server chain with the CA,
 * verify depth 1, the farm CRL, no session reuse) and the X-SSL-Client-* headers set with proxy_set_header.
 * Two HTTPS ports: `strict` (ssl_verify_client on with the farm CRL, the product's setting) and `optional`
 * (optional_no_ca, no CRL), which lets unverified and revoked clients reach the service so that its own refusals
 * (Verify FAILED/NONE, revoked in the PKI index) can be seen through nginx.
 */
export interface MtlsNginxOptions {
  root: string;
  strictPort: number;
  optionalPort: number;
  /** Default: the farm's boot socket. */
  bootSocket?: string;
  /** Extra `location` blocks for both servers (benchmark: a static file, the Flask app). */
  extraLocations?: string;
  workers?: number;
  /** Run the workers as this user (root starts nginx; the socket is 0660 for www-data's group). */
  user?: string;
}

export interface MtlsNginx {
  dir: string;
  accessLog: string;
  errorLog: string;
  reload(): Promise<void>;
  stop(): Promise<void>;
}

function conf(o: MtlsNginxOptions, dir: string): string {
  const pki = pkiPaths(farmLayout(o.root));
  const sock = o.bootSocket ?? farmLayout(o.root).bootSocket;
  const boot = `
        location = /boot.ipxe { proxy_pass http://unix:${sock}:; }
        location = /ipxe { proxy_pass http://unix:${sock}:; }
        location /ipxe/ { proxy_pass http://unix:${sock}:; }
        ${o.extraLocations ?? ''}
        location / { return 404; }`;
  return `
worker_processes ${o.workers ?? 2};
${o.user ? `user ${o.user};` : ''}
error_log ${dir}/error.log info;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/temp/body;
    proxy_temp_path ${dir}/temp/proxy;
    fastcgi_temp_path ${dir}/temp/fastcgi;
    uwsgi_temp_path ${dir}/temp/uwsgi;
    scgi_temp_path ${dir}/temp/scgi;
    default_type text/plain;

    ssl_protocols TLSv1.2;
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA;
    ssl_certificate ${pki.serverChain};
    ssl_certificate_key ${pki.serverKey};
    ssl_client_certificate ${pki.caCert};
    ssl_verify_depth 1;
    ssl_session_cache off;
    ssl_session_tickets off;

    proxy_set_header Host $host;
    proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
    proxy_set_header X-SSL-Client-Serial $ssl_client_serial;
    proxy_set_header X-SSL-Client-Fingerprint $ssl_client_fingerprint;
    proxy_set_header X-SSL-Client-S-DN $ssl_client_s_dn;

    server {
        listen 127.0.0.1:${o.strictPort} ssl;
        ssl_verify_client on;
        ssl_crl ${pki.crlPem};
${boot}
    }
    server {
        listen 127.0.0.1:${o.optionalPort} ssl;
        ssl_verify_client optional_no_ca;
${boot}
    }
}
`;
}

export function nginxMissing(): string | undefined {
  return which('nginx') || fs.existsSync('/usr/sbin/nginx') ? undefined : 'nginx is not installed (apt-get install nginx): the boot service cannot be tested behind real nginx';
}

async function waitPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > until) throw new Error(`nginx did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startMtlsNginx(o: MtlsNginxOptions, dir: string): Promise<MtlsNginx> {
  fs.mkdirSync(path.join(dir, 'temp'), { recursive: true });
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf(o, dir));
  const nginx = which('nginx') ?? '/usr/sbin/nginx';
  const args = ['-p', `${dir}/`, '-c', file, '-e', `${dir}/error.log`, '-g', 'daemon off;'];
  const child = start(nginx, args);
  let exited = false;
  void child.then(() => { exited = true; });
  try {
    await waitPort(o.strictPort, 10_000);
    await waitPort(o.optionalPort, 2_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, 'utf8').slice(-2000) : ''}`);
  }
  return {
    dir,
    accessLog: path.join(dir, 'access.log'),
    errorLog: path.join(dir, 'error.log'),
    async reload() {
      const before = fs.readFileSync(path.join(dir, 'error.log'), 'utf8').length;
      child.kill('SIGHUP');
      // Reloaded when the master reports its new workers (DESIGN §4: ~75–120 ms).
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        const log = fs.readFileSync(path.join(dir, 'error.log'), 'utf8').slice(before);
        if (/start worker process/.test(log)) { await new Promise((r) => setTimeout(r, 150)); return; }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('nginx did not reload within 5 s');
    },
    async stop() {
      if (exited) return;
      child.kill('SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await child;
      clearTimeout(t);
    },
  };
}
