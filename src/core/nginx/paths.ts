import * as path from 'node:path';
import type { FarmLayout, NginxRuntimeKind } from '../farm/light';

/**
 * Where nginx's files live. The configuration is the user's (nginx/); each runtime gets its own private prefix under
 * .ipxe-farm/ for pid, temp folders and logs, so both runtimes can read the same generated config: relative paths in
 * it (logs/access.log, temp/…) resolve against whichever prefix the runtime passes with -p.
 */
export function nginxPaths(layout: FarmLayout, runtime: NginxRuntimeKind) {
  const prefix = path.join(layout.runtime, `nginx-${runtime}`);
  return {
    confDir: layout.nginx,
    mainConf: path.join(layout.nginx, 'nginx.conf'),
    confD: path.join(layout.nginx, 'conf.d'),
    prefix,
    logsDir: path.join(prefix, 'logs'),
    accessLog: path.join(prefix, 'logs', 'access.log'),
    errorLog: path.join(prefix, 'logs', 'error.log'),
    pidFile: path.join(prefix, 'nginx.pid'),
    tempDir: path.join(prefix, 'temp'),
  };
}

export type NginxPaths = ReturnType<typeof nginxPaths>;
