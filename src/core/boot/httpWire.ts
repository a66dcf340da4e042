import type * as net from 'node:net';
import { IDENTITY_HEADERS } from './handler';

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
  /**
   * The identity headers nginx sets (x-ssl-client-verify, -serial, -fingerprint; lower-case names) with every value
   * of a repeated one, so a caller can refuse duplicates. Other headers are checked but not kept: nothing reads them.
   */
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

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** RFC 9110 token characters (a header name), as a byte table. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN[c.charCodeAt(0)] = 1;

/** The header names the reader acts on, lower case, by length (the only ones it turns into strings). */
const KNOWN: Record<number, string[]> = {};
for (const n of ['connection', 'content-length', 'transfer-encoding', ...IDENTITY_HEADERS]) (KNOWN[n.length] ??= []).push(n);

/** The known name bytes [from, from + length) spell, compared without regard to ASCII case, or undefined. */
function knownName(buf: Buffer, from: number, length: number): string | undefined {
  const names = KNOWN[length];
  if (names === undefined) return undefined;
  next: for (const n of names) {
    for (let k = 0; k < length; k++) {
      const c = buf[from + k]!;
      if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== n.charCodeAt(k)) continue next;
    }
    return n;
  }
  return undefined;
}

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

const REQUEST_LINE_REFUSAL = 'the request line is not METHOD /TARGET HTTP/1.x';
const IDENTITY_NAMES = new Set<string>(IDENTITY_HEADERS);

/**
 * Parses the head in buf[0, end) (without its final CRLFCRLF) that badBytes already accepted, so every CR there ends a
 * line. It works on the bytes and makes strings only of the method, the target and the values the service reads:
 * measured under load, the string-and-regex version of this cost a quarter of the service's CPU per request.
 * Every header line is still checked (name a token, colon, no fold); Transfer-Encoding and a Content-Length other than
 * one 0 are refused; `headersDistinct` holds every value of the X-SSL-Client-Verify/-Serial/-Fingerprint headers.
 */
export function parseHead(buf: Buffer, end: number): WireRequest | WireRefusal {
  let eol = buf.indexOf(0x0d);
  if (eol < 0 || eol > end) eol = end;
  // Request line: [A-Z]{1,16} SP "/" [!-~]* SP "HTTP/1." ("0" | "1")
  let i = 0;
  while (i < eol && buf[i]! >= 0x41 && buf[i]! <= 0x5a) i++;
  if (i === 0 || i > 16 || buf[i] !== 0x20 || buf[i + 1] !== 0x2f) return new WireRefusal(400, REQUEST_LINE_REFUSAL);
  const method = i === 3 && buf[0] === 0x47 && buf[1] === 0x45 && buf[2] === 0x54 ? 'GET' : buf.toString('latin1', 0, i);
  const urlStart = i + 1;
  i = urlStart + 1;
  while (i < eol && buf[i]! >= 0x21 && buf[i]! <= 0x7e) i++;
  const urlEnd = i;
  // " HTTP/1." is 8 bytes, then the minor version digit, then the line's end.
  if (eol - urlEnd !== 9 || buf.toString('latin1', urlEnd, urlEnd + 8) !== ' HTTP/1.' || (buf[urlEnd + 8] !== 0x30 && buf[urlEnd + 8] !== 0x31)) {
    return new WireRefusal(400, REQUEST_LINE_REFUSAL);
  }
  const url = buf.toString('latin1', urlStart, urlEnd);
  let close = buf[urlEnd + 8] === 0x30;
  // No prototype: the names are fixed here, but a reader of headersDistinct must never meet inherited keys.
  const headersDistinct = Object.create(null) as Record<string, string[] | undefined>;
  let contentLength = false;
  for (let start = eol + 2; start < end; start = eol + 2) {
    eol = buf.indexOf(0x0d, start);
    if (eol < 0 || eol > end) eol = end;
    const c0 = buf[start];
    if (c0 === 0x20 || c0 === 0x09) return new WireRefusal(400, 'a folded header line (obs-fold)');
    let colon = start;
    while (colon < eol && buf[colon] !== 0x3a) colon++;
    if (colon === start || colon === eol) return new WireRefusal(400, 'a header line without a name and a colon');
    for (let k = start; k < colon; k++) if (TOKEN[buf[k]!] === 0) return new WireRefusal(400, 'a header name with characters a name cannot have');
    const name = knownName(buf, start, colon - start);
    if (name === undefined) continue;
    // Only SP and HTAB are optional whitespace around a value.
    let a = colon + 1;
    let b = eol;
    while (a < b && (buf[a] === 0x20 || buf[a] === 0x09)) a++;
    while (b > a && (buf[b - 1] === 0x20 || buf[b - 1] === 0x09)) b--;
    if (name === 'transfer-encoding') return new WireRefusal(400, 'a Transfer-Encoding header (a request body)');
    if (name === 'content-length') {
      if (contentLength || b - a !== 1 || buf[a] !== 0x30) return new WireRefusal(400, 'a request body (Content-Length other than one 0)');
      contentLength = true;
      continue;
    }
    const value = buf.toString('latin1', a, b);
    if (name === 'connection') {
      if (/(?:^|,)[ \t]*close[ \t]*(?:,|$)/i.test(value)) close = true;
      continue;
    }
    if (IDENTITY_NAMES.has(name)) {
      const seen = headersDistinct[name];
      if (seen) seen.push(value);
      else headersDistinct[name] = [value];
    }
  }
  return { method, url, headersDistinct, close };
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
    const parsed = parseHead(pending, end);
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
    // Only a kept-alive GET answer is the same bytes every time within a second.
    const reusable = a.wire !== undefined && !close && parsed.method === 'GET';
    const second = Math.floor(nowMs / 1000);
    let text: string;
    if (reusable && a.wire!.second === second) text = a.wire!.text;
    else {
      text = responseText(a, parsed.method === 'HEAD', close, nowMs);
      if (reusable) a.wire = { second, text };
    }
    if (close) { finish(text); return; }
    if (!socket.write(text)) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  });
}
