import type * as net from 'node:net';

/**
 * A strict HTTP/1.1 reader for the boot service's one peer, nginx's upstream module: body-less GETs on kept-alive
 * connections, never pipelined. Anything else is refused and the connection closed, never resynchronised: a reader
 * that guesses where the next request starts is how request smuggling happens. It exists because node:http's per-request
 * machinery (IncomingMessage, ServerResponse, header objects, a writev) cost more than the service's own work.
 */

/** The whole head (request line, headers, blank line); longer ones get 431, like node:http's maxHeaderSize. */
export const MAX_HEAD_BYTES = 8192;

export interface WireRequest {
  method: string;
  url: string;
  /** Lower-case names; every value of a repeated header, so a caller can refuse duplicates. */
  headersDistinct: Record<string, string[] | undefined>;
  /** HTTP/1.0 or `Connection: close`: the connection ends after this answer. */
  close: boolean;
}

export interface WireAnswer {
  status: number;
  body: string;
  /** End the connection after this answer even though the request kept it alive. */
  close?: boolean;
  /**
   * Present on an answer object that handle() may return again (a remembered answer): its serialised form for one
   * second of the Date header is kept here, so an answer given again costs no formatting.
   */
  wire?: { second: number; text: string };
}

export interface WireOptions {
  /** Answers one well-formed request; called synchronously, in the order requests arrive. */
  handle(req: WireRequest, now: Date): WireAnswer;
  /** A head refused before handle() saw it (why, in words of our own: never bytes of the request). */
  onRefused?(status: number, reason: string): void;
  /** Close a connection idle this long (ms). */
  idleMs: number;
  /** Close a connection whose head has not been complete this long after its first byte (ms): slow heads. */
  headMs: number;
}

export class WireRefusal {
  constructor(readonly status: 400 | 431, readonly reason: string) {}
}

const REASON_PHRASES: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
  414: 'URI Too Long', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
};

const REQUEST_LINE = /^([A-Z]{1,16}) (\/[!-~]*) HTTP\/1\.([01])$/;
/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * The first reason bytes [from, to) cannot belong to a head: control characters (NUL included) other than tab, DEL,
 * a CR not followed by LF or an LF not preceded by CR (bare line ends are refused, not tolerated: nginx never sends
 * them, and readers that disagree on them are a smuggling vector). A CR as the very last byte waits for the next one.
 */
function badBytes(buf: Buffer, from: number, to: number): string | undefined {
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c >= 0x20 && c !== 0x7f) continue;
    if (c === 0x09) continue;
    if (c === 0x0d) {
      if (i + 1 < to && buf[i + 1] !== 0x0a) return 'a CR not followed by LF';
      continue;
    }
    if (c === 0x0a) {
      if (i === 0 || buf[i - 1] !== 0x0d) return 'a bare LF line end';
      continue;
    }
    return 'a control character in the request head';
  }
  return undefined;
}

/** Only SP and HTAB are optional whitespace; String.trim would also eat latin1 NBSP (0xA0) from a value. */
function trimOws(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && (v.charCodeAt(a) === 0x20 || v.charCodeAt(a) === 0x09)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 0x20 || v.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === v.length ? v : v.slice(a, b);
}

/** Parses a complete head (without its final blank line's CRLFCRLF) that badBytes already accepted. */
export function parseHead(head: string): WireRequest | WireRefusal {
  let eol = head.indexOf('\r\n');
  if (eol < 0) eol = head.length;
  const m = REQUEST_LINE.exec(head.slice(0, eol));
  if (!m) return new WireRefusal(400, 'the request line is not METHOD /TARGET HTTP/1.x');
  // No prototype: a header named __proto__ must be a plain entry like any other.
  const headersDistinct = Object.create(null) as Record<string, string[] | undefined>;
  let connectionClose = m[3] === '0';
  let contentLength = false;
  for (let start = eol + 2; start < head.length; start = eol + 2) {
    eol = head.indexOf('\r\n', start);
    if (eol < 0) eol = head.length;
    const c0 = head.charCodeAt(start);
    if (c0 === 0x20 || c0 === 0x09) return new WireRefusal(400, 'a folded header line (obs-fold)');
    const colon = head.indexOf(':', start);
    if (colon <= start || colon > eol) return new WireRefusal(400, 'a header line without a name and a colon');
    const rawName = head.slice(start, colon);
    if (!HEADER_NAME.test(rawName)) return new WireRefusal(400, 'a header name with characters a name cannot have');
    const name = rawName.toLowerCase();
    const value = trimOws(head.slice(colon + 1, eol));
    if (name === 'transfer-encoding') return new WireRefusal(400, 'a Transfer-Encoding header (a request body)');
    if (name === 'content-length') {
      if (contentLength || value !== '0') return new WireRefusal(400, 'a request body (Content-Length other than one 0)');
      contentLength = true;
    }
    if (name === 'connection' && /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i.test(value)) connectionClose = true;
    const seen = headersDistinct[name];
    if (seen) seen.push(value);
    else headersDistinct[name] = [value];
  }
  return { method: m[1]!, url: m[2]!, headersDistinct, close: connectionClose };
}

let dateSecond = -1;
let dateText = '';
/** The Date header's text, made once per second rather than per answer. */
function httpDate(nowMs: number): string {
  const s = Math.floor(nowMs / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(s * 1000).toUTCString();
  }
  return dateText;
}

export function responseText(a: WireAnswer, head: boolean, close: boolean, nowMs: number): string {
  return `HTTP/1.1 ${a.status} ${REASON_PHRASES[a.status] ?? 'Status'}\r\n`
    + 'content-type: text/plain; charset=utf-8\r\n'
    + `content-length: ${Buffer.byteLength(a.body)}\r\n`
    + 'cache-control: no-store\r\n'
    + (a.status === 405 ? 'allow: GET, HEAD\r\n' : '')
    + `date: ${httpDate(nowMs)}\r\n`
    + (close ? 'connection: close\r\n\r\n' : '\r\n')
    + (head ? '' : a.body);
}

/**
 * Serves one connection: one write per answer, no per-request objects beyond the parsed head. After a refusal or an
 * answer that closes, further bytes are read and dropped until the peer closes or the idle timer ends it.
 */
export function serveWireConnection(socket: net.Socket, opts: WireOptions): void {
  let pending: Buffer | undefined;
  let scanned = 0;
  let headStarted = 0;
  let done = false;

  const finish = (text: string): void => {
    done = true;
    pending = undefined;
    socket.end(text);
  };
  const refuse = (status: 400 | 408 | 431 | 500, reason: string): void => {
    opts.onRefused?.(status, reason);
    finish(responseText({ status, body: `${reason}\n` }, false, true, Date.now()));
  };

  socket.setNoDelay?.(true);
  socket.setTimeout(opts.idleMs, () => socket.destroy());
  socket.on('error', () => { /* the peer went away; nothing to answer */ });
  socket.on('data', (chunk: Buffer) => {
    if (done) return;
    const nowMs = Date.now();
    if (pending === undefined) {
      pending = chunk;
      scanned = 0;
      headStarted = nowMs;
    } else {
      if (nowMs - headStarted > opts.headMs) { refuse(408, 'the request head took too long'); return; }
      pending = Buffer.concat([pending, chunk]);
    }
    // A CR kept back at the end of the last scan is checked again now that the byte after it is here.
    const bad = badBytes(pending, Math.max(0, scanned - 1), pending.length);
    if (bad) { refuse(400, bad); return; }
    scanned = pending.length;
    const end = pending.indexOf(CRLFCRLF, Math.max(0, scanned - chunk.length - 3));
    if (end < 0) {
      if (pending.length > MAX_HEAD_BYTES) refuse(431, 'the request head is longer than 8 KiB');
      return;
    }
    if (end + 4 > MAX_HEAD_BYTES) { refuse(431, 'the request head is longer than 8 KiB'); return; }
    // nginx waits for each answer before it sends the next request: bytes after a head are a body or a pipelined
    // request, and neither is answered.
    if (end + 4 !== pending.length) { refuse(400, 'bytes after the request head (a body or pipelined requests)'); return; }
    const parsed = parseHead(pending.toString('latin1', 0, end));
    pending = undefined;
    if (parsed instanceof WireRefusal) { refuse(parsed.status, parsed.reason); return; }
    const now = new Date(nowMs);
    let a: WireAnswer;
    try {
      a = opts.handle(parsed, now);
    } catch {
      // A bug in one answer must not take every other machine's boot down with the process.
      refuse(500, 'the answer could not be made');
      return;
    }
    // Anything but GET or HEAD is answered (405) and not trusted to be body-less: the connection ends.
    const close = parsed.close || a.close === true || (parsed.method !== 'GET' && parsed.method !== 'HEAD');
    let text: string;
    const second = Math.floor(nowMs / 1000);
    if (a.wire !== undefined && a.wire.second === second && !close && parsed.method === 'GET') text = a.wire.text;
    else {
      text = responseText(a, parsed.method === 'HEAD', close, nowMs);
      if (a.wire !== undefined && !close && parsed.method === 'GET') a.wire = { second, text };
    }
    if (close) { finish(text); return; }
    if (!socket.write(text)) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  });
}
