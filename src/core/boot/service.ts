import * as fsp from 'node:fs/promises';
import { FarmError } from '../errors';
import { bootSocketAccess, type SocketAccess } from '../socket/light';
import { resolveRuntime } from '../farm/light';
import { secretsExposure } from '../secrets/light';
import { BootEventLog } from './events';
import { answer } from './handler';
import { createBootHttpServer } from './httpServer';
import { openSocketToNginx, prepareSocketPath } from './socketPath';
import { BootStateReloader, loadBootState } from './state';
import { SecretFileService } from './secretFiles';

export interface BootServiceOptions {
  root: string;
  /** Defaults to farmLayout(root).bootSocket. */
  socket?: string;
  /** Group allowed to connect (nginx's workers); default: bootSocketAccess(farm), the farm's nginx runtime decides. */
  gid?: number;
  /** Service log lines (requests, reloads, rejected changes); never a script or a secret. */
  log?: (line: string) => void;
  reloadIntervalMs?: number;
  /**
   * A listening socket handed over by the service manager (systemd socket activation). Default: the LISTEN_FDS /
   * LISTEN_PID environment of sd_listen_fds(3), so `ipxe-farm serve` under a .socket unit uses it unasked.
   */
  listenFd?: number;
  /** Secret files' one-time tokens (in memory only); tests pass their own to count or age them. */
  secretFiles?: SecretFileService;
}

export interface BootService {
  socket: string;
  reloader: BootStateReloader;
  secretFiles: SecretFileService;
  /** Connections accepted and requests answered since start: shows whether nginx's upstream keepalive holds. */
  stats(): { connections: number; requests: number };
  close(): Promise<void>;
}

/**
 * The socket systemd passes (sd_listen_fds(3): fd 3 when LISTEN_PID is this process), or undefined. The variables are
 * removed so that processes this one starts do not take the socket for theirs.
 */
export function inheritedListenFd(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  if (env.LISTEN_PID === undefined || env.LISTEN_FDS === undefined) return undefined;
  const mine = env.LISTEN_PID === String(pid);
  const count = env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (!mine) return undefined;
  if (count !== '1') {
    throw new FarmError(`The service manager passed ${count} sockets (LISTEN_FDS); the boot service listens on exactly one.`, 'Give the .socket unit a single ListenStream= line.', 'ELISTENFDS');
  }
  return 3;
}

/**
 * The boot service on its unix socket. Only nginx can reach it (socketAccess.ts): a local nginx's worker group owns the
 * socket folder (0750) and socket (0660); for podman the socket folder is mounted into the farm's container alone and
 * the runtime folder above it is 0700 on the host. Nobody else can connect and forge the X-SSL-Client-* headers.
 */
export async function startBootService(opts: BootServiceOptions): Promise<BootService> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const state = await loadBootState(opts.root);
  const layout = state.layout;
  const socket = opts.socket ?? layout.bootSocket;
  const access: SocketAccess = opts.gid !== undefined ? { kind: 'group', gid: opts.gid } : bootSocketAccess(state.farm, resolveRuntime(state.farm, layout).kind);

  // With socket activation the service manager owns the socket (path, mode, group) and keeps it open across restarts:
  // nginx's connections wait in its backlog while the service restarts, instead of failing.
  const listenFd = opts.listenFd ?? inheritedListenFd();
  if (listenFd === undefined) await prepareSocketPath(layout, socket, access, log);

  const events = new BootEventLog(layout.bootEvents, {
    onWriteError: (err, lost) => log(err
      ? `cannot write boot events to ${layout.bootEvents} (${err.code ?? err.message}); boots go on, their events are lost until this is fixed`
      : `boot events are written again to ${layout.bootEvents} (${lost} lost meanwhile)`),
  });
  events.open();
  const reloader = new BootStateReloader(opts.root, state, {
    onReload: (s) => {
      log('reloaded the farm file, PKI index and secrets');
      // Each part is loaded on its own: what is wrong refuses only what it concerns, and is said every time.
      for (const p of s.problems) log(p);
    },
    onReject: (err) => log(`kept serving the last loaded state: ${err instanceof FarmError ? err.sentence : err.message}`),
  }, opts.reloadIntervalMs);

  const secretFiles = opts.secretFiles ?? new SecretFileService();
  let connections = 0;
  let requests = 0;
  const server = createBootHttpServer({
    handle: (req, now) => {
      requests++;
      const state = reloader.state;
      // Secret files (/secret/TOKEN, and /why.ipxe after one was refused) have answers of their own.
      const a = secretFiles.answer(state, req, now) ?? secretFiles.withTokens(state, answer(state, req, now), req, now);
      events.append(a.event);
      // Every answer is in the boot-events log; the service log carries only what someone should look at.
      if (a.status !== 200) log(`${a.status} ${a.event.path}${a.event.client ? ` client=${a.event.client}` : ''}${a.event.reason ? ` (${a.event.reason})` : ''}`);
      return a;
    },
    // A revocation or a new secret counts at the next request: one the service was told of and has not loaded yet waits.
    ready: () => reloader.current(),
    // Only nginx reaches the socket, and it sends well-formed GETs: a refused request means something else is talking.
    onRefused: (status, reason) => log(`${status} refused a request head: ${reason}; connection closed`),
  });
  server.on('connection', () => { connections++; });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new FarmError(`Cannot listen on ${socket}: ${err.code ?? err.message}.`, 'Check that the folder is writable and no other service uses it.', err.code ?? 'ELISTEN')));
    if (listenFd === undefined) server.listen(socket, () => resolve());
    else server.listen({ fd: listenFd }, () => resolve());
  });
  if (listenFd === undefined) await openSocketToNginx(socket, access, log);
  await reloader.start();
  log(`boot service for farm "${state.farm.name}" listening on ${listenFd === undefined ? socket : `the socket the service manager passed (fd ${listenFd})`}`);
  for (const p of reloader.state.problems) log(p);
  if (secretsExposure(opts.root)) log(`warning: ${layout.secrets} can be read by other users; run: chmod 600 ${layout.secrets}`);

  return {
    socket,
    reloader,
    secretFiles,
    stats: () => ({ connections, requests }),
    async close() {
      reloader.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // A request already read is answered: cut, nginx turns it into a 502 (seen while a socket-activated service
        // restarted). A connection still busy after 2 s is cut all the same.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      events.close();
      // An inherited socket stays with the service manager, which keeps it listening for the next start.
      if (listenFd === undefined) await fsp.rm(socket, { force: true });
    },
  };
}
