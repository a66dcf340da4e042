import * as path from 'node:path';
import { FARM_FILE } from './model';

/** Where each part of a farm lives on disk; every module asks here instead of joining paths itself. */
export interface FarmLayout {
  root: string;
  farmFile: string;
  pki: string;
  nginx: string;
  files: string;
  ipxe: string;
  secrets: string;
  /** Runtime state nobody commits: socket, logs, boot events, QEMU serial logs. */
  runtime: string;
  /** Holds the boot service's unix socket; bind-mounted into the nginx container. */
  socketDir: string;
  bootSocket: string;
  bootEvents: string;
  logs: string;
}

export function farmLayout(root: string): FarmLayout {
  const abs = path.resolve(root);
  const runtime = path.join(abs, '.ipxe-farm');
  const socketDir = path.join(runtime, 'run');
  return {
    root: abs,
    farmFile: path.join(abs, FARM_FILE),
    pki: path.join(abs, 'pki'),
    nginx: path.join(abs, 'nginx'),
    files: path.join(abs, 'files'),
    ipxe: path.join(abs, 'ipxe'),
    secrets: path.join(abs, 'secrets.json'),
    runtime,
    socketDir,
    bootSocket: path.join(socketDir, 'boot.sock'),
    bootEvents: path.join(runtime, 'boot-events.jsonl'),
    logs: path.join(runtime, 'logs'),
  };
}
