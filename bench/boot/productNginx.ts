import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { FarmLayout } from '../../src/core/farm/layout';
import type { Farm } from '../../src/core/farm/model';
import { renderNginxConfig } from '../../src/core/nginx/generate';
import { which } from '../../src/core/process/light';

/**
 * nginx with the product's own generated configuration (renderNginxConfig: the mutual-TLS server, the X-SSL-Client-*
 * headers, the keepalive upstream to the boot service), so the benchmark measures what a farm runs. Three changes, all
 * asserted so that a new shape of the generated text fails loudly instead of silently benchmarking something else:
 * - the listen line is 127.0.0.1 and a free port (benchmarks stay on loopback);
 * - `worker_processes`/`worker_connections` are the generated ones unless the bench is told otherwise
 *   (--nginx-workers/--nginx-connections, to try other sizes);
 * - the bench's extra locations (the static file, the Flask app, the bare node:http server) go into the same server
 *   block, so all targets share one TLS setup; the bare server's upstream block goes at the top of the same file.
 */
export interface ProductNginx {
  pid: number;
  dir: string;
  httpsConf: string;
  accessLog: string;
  errorLog: string;
  stop(): Promise<void>;
}

function replaceOnce(text: string, from: RegExp, to: string, what: string): string {
  if (!from.test(text)) throw new Error(`The generated nginx config no longer has ${what}; update bench/boot/productNginx.ts.`);
  return text.replace(from, to);
}

export async function startProductNginx(o: { farm: Farm; layout: FarmLayout; port: number; workers?: number; connections?: number; extraLocations: string; extraHttp?: string; dir: string; user?: string }): Promise<ProductNginx> {
  const files = renderNginxConfig(o.farm, o.layout, o.farm.nginx.runtime);
  const main = files.find((f) => f.file.endsWith('nginx.conf'))!;
  const https = files.find((f) => f.file.endsWith('ipxe-https.conf'))!;
  let mainText = main.text;
  if (o.workers !== undefined) mainText = replaceOnce(mainText, /^worker_processes \S+;$/m, `worker_processes ${o.workers};`, 'a worker_processes line');
  if (o.connections !== undefined) mainText = replaceOnce(mainText, /worker_connections \d+;/, `worker_connections ${o.connections};`, 'a worker_connections line');
  let httpsText = replaceOnce(https.text, /^\s*listen [^;]*ssl;$/m, `    listen 127.0.0.1:${o.port} ssl;`, 'an ssl listen line');
  httpsText = replaceOnce(httpsText, /^ {4}location \/ \{$/m, `${o.extraLocations}\n    location / {`, 'a catch-all location');
  // The file is included in nginx's http block (it holds the generated upstream), so extra upstreams go at its top.
  if (o.extraHttp) httpsText = `${o.extraHttp}${httpsText}`;
  if (!/keepalive \d+;/.test(httpsText)) throw new Error('The generated nginx config has no upstream keepalive; the benchmark expects one.');

  fs.mkdirSync(path.join(o.dir, 'conf.d'), { recursive: true });
  for (const d of ['logs', 'temp']) fs.mkdirSync(path.join(o.dir, d), { recursive: true });
  fs.writeFileSync(path.join(o.dir, 'nginx.conf'), mainText);
  fs.writeFileSync(path.join(o.dir, 'conf.d', 'ipxe-https.conf'), httpsText);
  const pidFile = path.join(o.dir, 'nginx.pid');
  const errorLog = path.join(o.dir, 'logs', 'error.log');
  const nginx = which('nginx') ?? '/usr/sbin/nginx';
  const child = spawn(nginx, ['-p', `${o.dir}/`, '-c', path.join(o.dir, 'nginx.conf'), '-e', errorLog, '-g', `daemon off; pid ${pidFile};${o.user ? ` user ${o.user};` : ''}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const until = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(o.port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`nginx with the product's config did not start: ${stderr}${fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8').slice(-1500) : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid!,
    dir: o.dir,
    httpsConf: httpsText,
    accessLog: path.join(o.dir, 'logs', 'access.log'),
    errorLog,
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await done;
      clearTimeout(t);
    },
  };
}
