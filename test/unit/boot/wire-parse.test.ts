import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHead, WireRefusal } from '../../../src/core/boot/httpWire';

// The byte-level head parser against the rules written out as regular expressions over a string (the reader's first
// version): both must accept the same heads, refuse the same heads for the same reason, and read the same method,
// target, close flag and identity headers. Heads here have already passed the byte check (no control bytes, CRLF only).

type Read = { method: string; url: string; close: boolean; ids: Record<string, string[]> } | { refused: string };

const IDS = ['x-ssl-client-verify', 'x-ssl-client-serial', 'x-ssl-client-fingerprint'];

function reference(head: string): Read {
  let eol = head.indexOf('\r\n');
  if (eol < 0) eol = head.length;
  const m = /^([A-Z]{1,16}) (\/[!-~]*) HTTP\/1\.([01])$/.exec(head.slice(0, eol));
  if (!m) return { refused: 'the request line is not METHOD /TARGET HTTP/1.x' };
  const ids: Record<string, string[]> = {};
  let close = m[3] === '0';
  let contentLength = false;
  for (let start = eol + 2; start < head.length; start = eol + 2) {
    eol = head.indexOf('\r\n', start);
    if (eol < 0) eol = head.length;
    if (head[start] === ' ' || head[start] === '\t') return { refused: 'a folded header line (obs-fold)' };
    const colon = head.indexOf(':', start);
    if (colon <= start || colon > eol) return { refused: 'a header line without a name and a colon' };
    const rawName = head.slice(start, colon);
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(rawName)) return { refused: 'a header name with characters a name cannot have' };
    const name = rawName.toLowerCase();
    const value = head.slice(colon + 1, eol).replace(/^[ \t]+|[ \t]+$/g, '');
    if (name === 'transfer-encoding') return { refused: 'a Transfer-Encoding header (a request body)' };
    if (name === 'content-length') {
      if (contentLength || value !== '0') return { refused: 'a request body (Content-Length other than one 0)' };
      contentLength = true;
    }
    if (name === 'connection' && /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i.test(value)) close = true;
    if (IDS.includes(name)) (ids[name] ??= []).push(value);
  }
  return { method: m[1]!, url: m[2]!, close, ids };
}

function parsed(head: string): Read {
  // As the reader calls it: the buffer still holds the head's final CRLFCRLF, `end` points at it.
  const r = parseHead(Buffer.from(`${head}\r\n\r\n`, 'latin1'), Buffer.byteLength(head, 'latin1'));
  if (r instanceof WireRefusal) return { refused: r.reason };
  return { method: r.method, url: r.url, close: r.close, ids: Object.fromEntries(Object.entries(r.headersDistinct).map(([k, v]) => [k, v!])) };
}

const FP = '25c03264ce7c7f4f1f8164ee0186b5642eb90b20';
const nginx = (lines: string[] = [], first = 'GET /boot.ipxe HTTP/1.1') => [first, 'Host: ipxefarm_boot', 'X-Real-IP: 10.0.2.15',
  'X-SSL-Client-Verify: SUCCESS', 'X-SSL-Client-Serial: 1A', `X-SSL-Client-Fingerprint: ${FP}`, 'X-SSL-Client-S-DN: CN=dut1,O=farm', ...lines].join('\r\n');

test('hand-picked heads: the byte parser reads and refuses exactly as the written-out rules do', () => {
  const heads = [
    nginx(), nginx([], 'HEAD /ipxe HTTP/1.0'), nginx([], 'DELETE /boot.ipxe HTTP/1.1'), nginx([], 'GET /ipxe/52:54:00:12:34:56?a=b&c=%41 HTTP/1.1'),
    nginx([], 'GET / HTTP/1.1'), nginx([], 'get /boot.ipxe HTTP/1.1'), nginx([], 'GET boot.ipxe HTTP/1.1'), nginx([], 'GET /boot.ipxe HTTP/1.2'),
    nginx([], 'GET /boot.ipxe HTTP/2.0'), nginx([], 'GET /boot.ipxe  HTTP/1.1'), nginx([], 'GET  /boot.ipxe HTTP/1.1'), nginx([], 'GET /boot.ipxe HTTP/1.1 '),
    nginx([], 'GET http://x/boot.ipxe HTTP/1.1'), nginx([], 'GET /bo\u00e9t HTTP/1.1'), nginx([], `${'A'.repeat(16)} / HTTP/1.1`), nginx([], `${'A'.repeat(17)} / HTTP/1.1`),
    nginx([], 'GET /boot.ipxe HTTP/1.1x'), nginx([], 'GET /boot.ipxe HTTP/1.'), nginx([], 'GET /boot.ipxe'), 'GET /boot.ipxe HTTP/1.1', '',
    nginx(['Connection: close']), nginx(['connection:keep-alive, CLOSE ']), nginx(['Connection: closed']), nginx(['Connection: x,close,y']), nginx(['CONNECTION: Close']),
    nginx(['Content-Length: 0']), nginx(['Content-Length:  0 \t']), nginx(['Content-Length: 00']), nginx(['Content-Length: 0', 'content-length: 0']), nginx(['Content-Length: 1']),
    nginx(['Content-Length:']), nginx(['Transfer-Encoding: chunked']), nginx(['transfer-ENCODING: identity']), nginx(['Transfer-Encoding : chunked']),
    nginx([' folded']), nginx(['\tfolded']), nginx([': no name']), nginx(['no colon']), nginx(['Bad Name: x']), nginx(['Bad\u00e9: x']), nginx(['B(d: x']),
    nginx(['X-SSL-Client-Verify: FAILED:certificate revoked']), nginx(['x-ssl-client-fingerprint: other']), nginx(['X-Ssl-Client-Serial:\t 7F \t']),
    nginx(['X-SSL-Client-Verify:']), nginx(['X-SSL-Client-Verify:   ']), nginx(['X-SSL-Client-Verifyy: x', 'X-SSL-Client-Verif: y']), nginx(['X-SSL-Client-S-DN: CN=\u00e9\u00ff']),
    nginx(['__proto__: x', 'constructor: y']), nginx(['a:b:c']), nginx(['x-ssl-client-verify: a: b']),
  ];
  for (const h of heads) assert.deepEqual(parsed(h), reference(h), JSON.stringify(h));
});

test('20,000 mutated heads: the byte parser and the written-out rules never disagree', () => {
  // A fixed-seed generator, so a failure names a head that can be replayed.
  let seed = 0x9e3779b9;
  const rnd = (n: number) => { seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0; return seed % n; };
  const pieces = [' ', '\t', ':', '/', 'A', 'a', 'Z', '0', '1', '.', ',', '(', '"', '\u00e9', '\u00a0', '~', 'close', 'CLOSE', 'HTTP/1.1', 'GET', 'x-ssl-client-verify',
    'X-SSL-Client-Fingerprint', 'content-length', 'Transfer-Encoding', 'connection', '\r\n', '\r\n ', '\r\nX-SSL-Client-Verify: SUCCESS', '\r\nContent-Length: 0'];
  let accepted = 0;
  for (let n = 0; n < 20_000; n++) {
    let h = nginx();
    for (let k = 1 + rnd(3); k > 0; k--) {
      const at = rnd(h.length + 1);
      const op = rnd(3);
      if (op === 0) h = h.slice(0, at) + pieces[rnd(pieces.length)]! + h.slice(at);
      else if (op === 1) h = h.slice(0, at) + h.slice(at + 1 + rnd(4));
      else h = h.slice(0, at) + (h[at] ?? '').toUpperCase() + h.slice(at + 1);
    }
    // Only heads the byte check lets through reach the parser: CRLF line ends, no control bytes but tab, no CRLFCRLF.
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(h.replace(/\r\n/g, '')) || /\r(?!\n)|(?<!\r)\n/.test(h) || h.includes('\r\n\r\n') || h.endsWith('\r')) continue;
    const want = reference(h);
    assert.deepEqual(parsed(h), want, JSON.stringify(h));
    if (!('refused' in want)) accepted++;
  }
  assert.ok(accepted > 2000, `the mutations left enough valid heads to compare readings (${accepted})`);
});
