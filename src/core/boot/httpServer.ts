import * as http from 'node:http';
import type * as net from 'node:net';
import type { BootRequest } from './handler';

/**
 * The boot service's HTTP/1.1 server: node:http with its strict parser (llhttp; insecureHTTPParser off), plus the rules
 * for its one peer, nginx's upstream module, which sends body-less GETs and HEADs on kept-alive connections and waits
 * for each answer. Anything else is refused (400, 431 or 408) and the connection closed, never resynchronised: a
 * reader that guesses where the next request starts is how request smuggling happens.
 */

/** Header bytes node:http accepts (its maxHeaderSize); nginx's heads are a few hundred bytes. Longer ones get 431. */
export const MAX_HEADER_BYTES = 8192;
/**
 * Idle kept-alive connections stay open this long: above nginx's upstream keepalive_timeout (30 s in the generated
 * config, 60 s nginx's default), so nginx never sends on a connection at the moment the service closes it.
 */
export const KEEP_ALIVE_MS = 65_000;
/** A request head not complete this long after its first byte (or after the connection opened) gets 408. */
export const HEADERS_MS = 10_000;

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface BootHttpOptions {
  /** Answers one well-formed request, once ready() has nothing left to wait for. */
  handle(req: BootRequest, now: Date): HttpAnswer;
  /**
   * Asked before each answer, on the event loop's turn after the request was read, so that it has seen every event the
   * loop took in with it (a file change the kernel reported before the request came): undefined, or what to wait for.
   */
  ready?(): Promise<void> | undefined;
  /** A request refused before handle() saw it (why, in words of our own: never bytes of the request). */
  onRefused(status: number, reason: string): void;
}

const REQUEST_LINE = 'the request line is not METHOD /TARGET HTTP/1.x';
/** Origin-form targets of visible ASCII only, as nginx sends them (it escapes everything else). */
const ORIGIN_FORM = /^\/[!-~]*$/;

function headers(status: number, body: string, close: boolean): string[] {
  const h = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), 'cache-control', 'no-store'];
  if (status === 405) h.push('allow', 'GET, HEAD');
  if (close) h.push('connection', 'close');
  return h;
}

/** A whole answer as bytes, for a connection node:http's parser gave up on (there is no ServerResponse then). */
function rawAnswer(status: number, body: string): string {
  const h = headers(status, body, true);
  let text = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Status'}\r\n`;
  for (let i = 0; i < h.length; i += 2) text += `${h[i]}: ${h[i + 1]}\r\n`;
  return `${text}date: ${new Date().toUTCString()}\r\n\r\n${body}`;
}

/** Our words and status for an error of node:http's parser (llhttp's reasons are fixed strings, never request bytes). */
function parserRefusal(err: NodeJS.ErrnoException & { reason?: string }): [number, string] {
  if (err.code === 'HPE_HEADER_OVERFLOW') return [431, `the request head is longer than ${MAX_HEADER_BYTES / 1024} KiB`];
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'the request head took too long'];
  return [400, `node:http's strict parser refused the request (${err.code ?? 'parse error'}: ${err.reason ?? err.message})`];
}

/** Why node:http's parse of this request is still not one nginx would send, or undefined when it is. */
function refusalOf(req: http.IncomingMessage): string | undefined {
  if (req.httpVersion !== '1.1' && req.httpVersion !== '1.0') return REQUEST_LINE;
  if (!ORIGIN_FORM.test(req.url ?? '')) return REQUEST_LINE;
  const h = req.headersDistinct;
  // node:http reads a chunked body; the service takes none, and an answer before the body is read is a smuggling risk.
  if (h['transfer-encoding'] !== undefined) return 'a Transfer-Encoding header (a request body)';
  const length = h['content-length'];
  if (length !== undefined && (length.length !== 1 || length[0] !== '0')) return 'a request body (Content-Length other than one 0)';
  // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host (nginx always sends it); more than one is never valid.
  const host = h.host?.length ?? 0;
  if (host > 1 || (host === 0 && req.httpVersion === '1.1')) return 'not exactly one Host header';
  return undefined;
}

/**
 * The server, not yet listening. Answers carry content-type, content-length, cache-control and Date; kept-alive ones
 * node:http's `Connection: keep-alive` and `Keep-Alive: timeout=65`, closing ones `Connection: close`.
 */
export function createBootHttpServer(opts: BootHttpOptions): http.Server {
  /** Connections with an answer not yet handed to the kernel: a request arriving then was pipelined. */
  const answering = new WeakMap<net.Socket, http.ServerResponse>();
  /**
   * Connections whose last answer closes them: the parser may still report errors on bytes after that request (a
   * Transfer-Encoding it refuses once the head was answered, garbage after a refusal), and one answer is enough.
   */
  const refused = new WeakSet<net.Socket>();

  const refuse = (res: http.ServerResponse, status: number, reason: string): void => {
    refused.add(res.req.socket);
    opts.onRefused(status, reason);
    const body = `${reason}\n`;
    res.writeHead(status, headers(status, body, true));
    res.end(body);
  };

  const server = http.createServer({
    insecureHTTPParser: false,
    maxHeaderSize: MAX_HEADER_BYTES,
    // Checked below with our words and both counts (none and more than one), like every other refusal.
    requireHostHeader: false,
    keepAliveTimeout: KEEP_ALIVE_MS,
    headersTimeout: HEADERS_MS,
    // No bodies are taken, so a whole request takes no longer than its head.
    requestTimeout: HEADERS_MS,
    connectionsCheckingInterval: 2_000,
  });
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const socket = req.socket;
    if (answering.has(socket)) {
      // nginx waits for each answer; node:http would answer pipelined requests in turn, the service does not.
      refuse(res, 400, 'a request sent before the last answer (pipelining)');
      return;
    }
    answering.set(socket, res);
    res.once('finish', () => answering.delete(socket));
    const why = refusalOf(req);
    if (why !== undefined) { refuse(res, 400, why); return; }
    // Anything but GET or HEAD is answered (405) and not trusted to be body-less; HTTP/1.0 always closes. Decided now:
    // bytes that follow it while the answer waits are not answered.
    const close = (req.method !== 'GET' && req.method !== 'HEAD') || req.httpVersion === '1.0';
    if (close) refused.add(socket);
    setImmediate(() => {
      const wait = opts.ready?.();
      if (wait) wait.then(() => reply(req, res, close), () => reply(req, res, close));
      else reply(req, res, close);
    });
  };
  const reply = (req: http.IncomingMessage, res: http.ServerResponse, close: boolean): void => {
    let a: HttpAnswer;
    try {
      a = opts.handle(req, new Date());
    } catch {
      // A bug in one answer must not take every other machine's boot down with the process.
      refuse(res, 500, 'the answer could not be made');
      return;
    }
    res.writeHead(a.status, headers(a.status, a.body, close));
    if (req.method === 'HEAD') res.end();
    else res.end(a.body);
  };
  server.on('request', onRequest);
  // An Expect header changes nothing: no interim 100 (nor node:http's 417), the request has no body to wait for.
  server.on('checkContinue', onRequest);
  server.on('checkExpectation', onRequest);
  // CONNECT (authority form) is not handed to 'request'; without this node:http would close the connection unanswered.
  server.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => {
    refused.add(socket);
    opts.onRefused(400, REQUEST_LINE);
    socket.end(rawAnswer(400, `${REQUEST_LINE}\n`), () => socket.destroy());
  });
  server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: net.Socket) => {
    // After a closing answer (ours, or one to `Connection: close`) node:http ends the connection once it is written.
    if (refused.has(socket) || err.code === 'HPE_CLOSED_CONNECTION') return;
    if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return; }
    refused.add(socket);
    const [status, reason] = parserRefusal(err);
    opts.onRefused(status, reason);
    const send = (): void => { socket.end(rawAnswer(status, `${reason}\n`), () => socket.destroy()); };
    // Bytes that came with a request still being answered: its answer goes first, as it would have before them.
    const pending = answering.get(socket);
    if (pending && !pending.writableFinished) pending.once('finish', send);
    else send();
  });
  return server;
}
