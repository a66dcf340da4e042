import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import { FarmError } from '../errors';
import type { FarmLayout } from '../farm/light';
import { ensureDir } from '../fs/light';
import type { SocketAccess } from '../socket/light';

/** The boot socket's folders and modes, for nginx's workers only (see SocketAccess). */

function tryChgrp(p: string, gid: number | undefined, log: (l: string) => void): void {
  if (gid === undefined) return;
  try {
    fs.chownSync(p, -1, gid);
  } catch (err) {
    log(`note: cannot give ${p} to group ${gid} (${(err as NodeJS.ErrnoException).code}); nginx must then run as this user`);
  }
}

async function removeStaleSocket(socket: string): Promise<void> {
  let st: fs.Stats;
  try { st = await fsp.lstat(socket); } catch { return; }
  if (!st.isSocket()) throw new FarmError(`${socket} exists and is not a socket.`, 'Move that file away and start again.', 'EEXIST');
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(socket);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new FarmError(`Another boot service is already listening on ${socket}.`, 'Stop it first (systemctl stop ipxe-farm-boot, or the other `ipxe-farm serve`).', 'EADDRINUSE');
  await fsp.rm(socket, { force: true });
}

/**
 * The socket's folder with `mode`, if it is the farm's own or we create it; true when its mode is ours to set. A folder
 * that exists outside the farm (`--socket /tmp/boot.sock`) belongs to somebody else: changing it broke /tmp once.
 */
async function socketFolder(layout: FarmLayout, dir: string, mode: number): Promise<boolean> {
  const ours = dir === layout.socketDir || dir.startsWith(`${layout.runtime}/`);
  if (!ours && fs.existsSync(dir)) return false;
  await ensureDir(dir, mode, true);
  return true;
}

/** Folders ready for nginx's workers, and no stale socket in the way (not for an inherited socket). */
export async function prepareSocketPath(layout: FarmLayout, socket: string, access: SocketAccess, log: (l: string) => void): Promise<void> {
  await ensureDir(layout.runtime, 0o700);
  const inRuntime = socket.startsWith(`${layout.runtime}/`);
  const socketDir = socket.slice(0, socket.lastIndexOf('/'));
  if (access.kind === 'container') {
    // The host barrier: whatever an earlier version or runtime opened, the runtime folder is the owner's alone again.
    if (inRuntime) await fsp.chmod(layout.runtime, 0o700);
    await socketFolder(layout, socketDir, 0o711);
  } else {
    // nginx's workers must pass through the runtime folder to reach the socket folder, but not list or read it.
    const runtimeMode = (await fsp.stat(layout.runtime)).mode & 0o777;
    if (inRuntime && access.gid !== undefined && access.gid !== process.getgid?.()) {
      await fsp.chmod(layout.runtime, (runtimeMode & 0o700) | 0o010);
      tryChgrp(layout.runtime, access.gid, log);
    }
    if (await socketFolder(layout, socketDir, 0o750)) tryChgrp(socketDir, access.gid, log);
  }
  await removeStaleSocket(socket);
}

/** The listening socket's own mode: the workers' group (local nginx), or the container's processes (podman). */
export async function openSocketToNginx(socket: string, access: SocketAccess, log: (l: string) => void): Promise<void> {
  if (access.kind === 'container') {
    await fsp.chmod(socket, 0o666);
    return;
  }
  await fsp.chmod(socket, 0o660);
  tryChgrp(socket, access.gid, log);
}
