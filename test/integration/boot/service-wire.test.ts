import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { farmWithPki } from '../../support/pki';
import { farmLayout } from '../../../src/core/farm/layout';
import { updateFarm } from '../../../src/core/farm/load';
import { readPkiIndex } from '../../../src/core/pki';
import { setSecret } from '../../../src/core/secrets/store';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { answer } from '../../../src/core/boot/handler';

// The boot service's HTTP server (node:http and the service's rules), byte by byte on its real socket: what nginx sends
// is answered, anything else is refused and the connection closed, and nothing crashes it.

const SECRET = 'wire-S3cret-5a6b7c';
let svc: BootService;
let logs: string[] = [];
let fp1 = '';
let serial2 = '';

before(async () => {
  const root = await farmWithPki();
  const layout = farmLayout(root);
  fs.writeFileSync(path.join(layout.files, 'vmlinuz'), 'k');
  await setSecret(root, 'tok', SECRET);
  await updateFarm(root, (raw) => {
    raw.profiles = { p1: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 who={{client.name}} token={{secret.tok}}', verify: false, extra: [] } };
    raw.clients = { dut1: { profile: 'p1', macs: ['52:54:00:00:00:01'], vars: {} }, dut2: { profile: 'p1', macs: [], vars: {} } };
  });
  svc = await startBootService({ root, log: (l) => logs.push(l), reloadIntervalMs: 60_000 });
  const idx = await readPkiIndex(root);
  fp1 = idx.records.find((r) => r.kind === 'client' && r.name === 'dut1')!.sha1;
  serial2 = idx.records.find((r) => r.kind === 'client' && r.name === 'dut2')!.serial;
});
after(async () => { await svc?.close(); });

/** What nginx sends upstream (proxy_http_version 1.1, Connection ""), with the given extra lines. */
function nginxHead(target = '/boot.ipxe', extra: string[] = [], verify = 'SUCCESS', fp = fp1, method = 'GET', version = '1.1'): string {
  return [`${method} ${target} HTTP/${version}`, 'Host: boot', 'X-Real-IP: 127.0.0.1', `X-SSL-Client-Verify: ${verify}`, 'X-SSL-Client-Serial: 01',
    `X-SSL-Client-Fingerprint: ${fp}`, 'X-SSL-Client-S-DN: CN=dut1', ...extra, '', ''].join('\r\n');
}

interface Reply { status: number; headers: Record<string, string>; body: string }

/** Splits the bytes a connection received into answers (content-length framed; HEAD answers have no body). */
function parseReplies(raw: Buffer, heads: boolean[] = []): Reply[] {
  const out: Reply[] = [];
  let s = raw.toString('latin1');
  while (s.length > 0) {
    const end = s.indexOf('\r\n\r\n');
    assert.ok(end > 0, `an incomplete answer: ${JSON.stringify(s.slice(0, 200))}`);
    const lines = s.slice(0, end).split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]!);
    assert.ok(m, `not a status line: ${lines[0]}`);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
    const len = heads[out.length] ? 0 : Number(headers['content-length']);
    out.push({ status: Number(m[1]), headers, body: Buffer.from(s.slice(end + 4, end + 4 + len), 'latin1').toString('utf8') });
    s = s.slice(end + 4 + len);
  }
  return out;
}

/**
 * Sends the chunks (pausing between them, so each arrives as its own read) and collects what comes back until the
 * service closes the connection (`closed`) or `waitMs` passes with the connection still open.
 */
function exchange(chunks: (string | Buffer)[], opts: { waitMs?: number; gapMs?: number; endAfter?: boolean } = {}): Promise<{ raw: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const c = net.connect(svc.socket);
    const got: Buffer[] = [];
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const done = () => { clearTimeout(timer); c.destroy(); resolve({ raw: Buffer.concat(got), closed }); };
    c.on('data', (d) => got.push(d));
    c.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') reject(e); });
    c.on('close', () => { closed = true; done(); });
    c.on('connect', async () => {
      for (const ch of chunks) {
        if (c.destroyed) break;
        c.write(ch);
        if (opts.gapMs !== undefined) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.endAfter && !c.destroyed) c.end();
      timer = setTimeout(done, opts.waitMs ?? 300);
    });
  });
}

/** Sends one request, waits for one answer, on an open connection. */
function ask(c: net.Socket, bytes: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const s = got.toString('latin1');
      const end = s.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(s.slice(0, end))?.[1] ?? 0);
      if (got.length < end + 4 + len) return;
      c.off('data', onData);
      resolve(parseReplies(got)[0]!);
    };
    c.on('data', onData);
    c.once('error', reject);
    c.write(bytes);
  });
}

test('three requests on one kept-alive connection are each answered with the client\'s own script, over one connection', async () => {
  const before = svc.stats();
  const c = net.connect(svc.socket);
  await new Promise((r) => c.once('connect', r));
  for (let i = 0; i < 3; i++) {
    const r = await ask(c, nginxHead());
    assert.equal(r.status, 200);
    assert.ok(r.body.startsWith('#!ipxe') && r.body.includes('who=dut1') && r.body.includes(`token=${SECRET}`));
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body));
    assert.equal(r.headers.connection, 'keep-alive', 'a kept-alive answer does not announce a close (node:http says keep-alive)');
    assert.ok(r.headers.date && !Number.isNaN(Date.parse(r.headers.date)));
  }
  const r2 = await ask(c, nginxHead('/ipxe', [], 'SUCCESS', ''));
  assert.equal(r2.status, 403, 'no fingerprint and the serial 01 of the CA itself is not a client');
  const r3 = await ask(c, nginxHead('/ipxe').replace('X-SSL-Client-Serial: 01', `X-SSL-Client-Serial: ${serial2}`).replace(`X-SSL-Client-Fingerprint: ${fp1}`, 'X-SSL-Client-Fingerprint: '));
  assert.equal(r3.status, 200);
  assert.ok(r3.body.includes('who=dut2'), 'selection by serial when nginx passes no fingerprint');
  assert.ok(!c.destroyed, 'the connection stays open');
  c.destroy();
  const after = svc.stats();
  assert.equal(after.connections - before.connections, 1);
  assert.equal(after.requests - before.requests, 5);
});

test('HEAD gets the headers of GET and no body; the connection stays open', async () => {
  // A pause between the two, as nginx waits for each answer: in one write they would be refused as pipelined.
  const { raw, closed } = await exchange([nginxHead('/boot.ipxe', [], 'SUCCESS', fp1, 'HEAD'), nginxHead()], { gapMs: 50 });
  assert.equal(closed, false);
  const [h, g] = parseReplies(raw, [true, false]);
  assert.equal(h!.status, 200);
  assert.equal(h!.body, '');
  assert.equal(g!.status, 200, 'the GET after the HEAD is read as a request: the HEAD answer carried no body');
  assert.equal(Number(h!.headers['content-length']), Buffer.byteLength(g!.body));
});

test('answers in a row on one connection: HEAD without body, a closing one says close, a later second a later Date', async () => {
  const { raw, closed } = await exchange([nginxHead(), nginxHead('/boot.ipxe', [], 'SUCCESS', fp1, 'HEAD'), nginxHead()], { gapMs: 50 });
  assert.equal(closed, false);
  const [g1, h, g2] = parseReplies(raw, [false, true, false]);
  assert.equal(h!.body, '', 'HEAD after a GET of the same answer still has no body');
  assert.equal(g2!.status, 200, 'so the next GET is read as a request');
  assert.equal(g2!.body, g1!.body);
  assert.ok(g1!.body.includes('who=dut1'));

  const closing = await exchange([nginxHead('/boot.ipxe', ['Connection: close'])], { waitMs: 2000 });
  assert.equal(closing.closed, true);
  assert.equal(parseReplies(closing.raw)[0]!.headers.connection, 'close', 'the answer to a closing request says close');

  const c = net.connect(svc.socket);
  await new Promise((r) => c.once('connect', r));
  const first = await ask(c, nginxHead());
  await new Promise((r) => setTimeout(r, 1100));
  const again = await ask(c, nginxHead());
  c.destroy();
  assert.equal(again.body, first.body);
  assert.notEqual(again.headers.date, first.headers.date, 'the Date header of an answer given again is this second\'s');
  assert.ok(Math.abs(Date.parse(again.headers.date!) - Date.now()) < 3000);
});

test('HTTP/1.0 and Connection: close are answered, then the connection is closed', async () => {
  for (const head of [nginxHead('/boot.ipxe', [], 'SUCCESS', fp1, 'GET', '1.0'), nginxHead('/boot.ipxe', ['Connection: close']), nginxHead('/boot.ipxe', ['Connection: keep-alive, Close'])]) {
    const { raw, closed } = await exchange([head], { waitMs: 2000 });
    assert.equal(closed, true, head);
    const r = parseReplies(raw);
    assert.equal(r.length, 1);
    assert.equal(r[0]!.status, 200);
    assert.equal(r[0]!.headers.connection, 'close');
  }
});

test('Expect: 100-continue gets one answer and no interim 100; garbage after a Connection: close request gets none', async () => {
  const { raw } = await exchange([nginxHead('/boot.ipxe', ['Expect: 100-continue'])]);
  assert.deepEqual(parseReplies(raw).map((x) => x.status), [200]);
  const closing = await exchange([`${nginxHead('/boot.ipxe', ['Connection: close'])}GARBAGE\r\n\r\n`], { waitMs: 2000 });
  assert.equal(closing.closed, true);
  assert.deepEqual(parseReplies(closing.raw).map((x) => x.status), [200]);
});

test('a head written one byte at a time is answered like a whole one', async () => {
  const head = nginxHead();
  const { raw, closed } = await exchange([...Buffer.from(head)].map((b) => Buffer.from([b])), { gapMs: 1 });
  assert.equal(closed, false);
  const r = parseReplies(raw);
  assert.equal(r.length, 1);
  assert.equal(r[0]!.status, 200);
  assert.ok(r[0]!.body.includes('who=dut1'));
});

/** A refused head: exactly one answer with this status, `connection: close`, and the connection closed. */
async function refused(chunks: (string | Buffer)[], status: number, what: string): Promise<void> {
  const before = svc.stats().requests;
  const { raw, closed } = await exchange(chunks, { waitMs: 2000 });
  assert.equal(closed, true, `${what}: the connection is closed`);
  const r = parseReplies(raw);
  assert.equal(r.length, 1, `${what}: exactly one answer, nothing read after the refusal is answered`);
  assert.equal(r[0]!.status, status, what);
  assert.equal(r[0]!.headers.connection, 'close', what);
  assert.ok(!r[0]!.body.includes(SECRET) && !r[0]!.body.includes('#!ipxe\nkernel'), what);
  assert.equal(svc.stats().requests, before, `${what}: never reached the boot logic`);
}

test('a body, Transfer-Encoding, obs-fold, NUL, bare LF, a header without colon and garbage: 400 and closed', async () => {
  // The body is itself a valid request: it must never be answered.
  const smuggled = nginxHead();
  await refused([nginxHead('/boot.ipxe', [`Content-Length: ${smuggled.length}`]) + smuggled], 400, 'Content-Length with a body in the same write');
  await refused([nginxHead('/boot.ipxe', ['Content-Length: 5']), 'hello'], 400, 'Content-Length: 5 then a body');
  await refused([nginxHead('/boot.ipxe', ['Content-Length: 0', 'Content-Length: 0'])], 400, 'two Content-Length headers');
  await refused([nginxHead('/boot.ipxe', ['Transfer-Encoding: chunked']), '0\r\n\r\n'], 400, 'Transfer-Encoding');
  await refused([nginxHead('/boot.ipxe', ['transfer-encoding: identity'])], 400, 'Transfer-Encoding in lower case');
  await refused([nginxHead('/boot.ipxe', ['X-Long: a', ' folded'])], 400, 'obs-fold with a space');
  await refused([nginxHead('/boot.ipxe', ['X-Long: a', '\tfolded'])], 400, 'obs-fold with a tab');
  await refused([nginxHead('/boot.ipxe', ['X-Nul: a\0b'])], 400, 'NUL in a value');
  await refused(['GET /boot.ipxe\0 HTTP/1.1\r\n'], 400, 'NUL in the request line, before the head is complete');
  await refused([nginxHead().replace(/\r\n/g, '\n')], 400, 'bare LF line ends');
  await refused([nginxHead('/boot.ipxe', ['X-Bad: a\rb'])], 400, 'a bare CR');
  await refused([nginxHead('/boot.ipxe', ['NoColonHere'])], 400, 'a header line without a colon');
  await refused([nginxHead('/boot.ipxe', [': empty name'])], 400, 'an empty header name');
  await refused([nginxHead('/boot.ipxe', ['Bad Name: x'])], 400, 'a space in a header name');
  await refused(['GARBAGE\r\n\r\n'], 400, 'garbage');
  await refused(['GET /boot.ipxe HTTP/2.0\r\n\r\n'], 400, 'an unknown HTTP version');
  await refused(['GET http://boot/boot.ipxe HTTP/1.1\r\nHost: b\r\n\r\n'], 400, 'an absolute-form target');
  await refused(['CONNECT boot:443 HTTP/1.1\r\nHost: boot:443\r\n\r\n'], 400, 'CONNECT (authority form)');
  // node:http's parser takes `GET  /x` as `GET /x`; this head is refused for its missing Host.
  await refused(['GET  /boot.ipxe HTTP/1.1\r\n\r\n'], 400, 'two spaces in the request line, no Host');
  await refused([randomBytes(64)], 400, 'random bytes');
  await refused(['GET /boot.ipxe HTTP/1.1\r\nX-SSL-Client-Verify: SUCCESS\r\n\r\n'], 400, 'HTTP/1.1 without Host');
  await refused([nginxHead('/boot.ipxe', ['Host: other'])], 400, 'two Host headers');
  await refused([nginxHead('/boot.ipxe?\x80')], 400, 'a byte above 0x7e in the target');
  await refused([nginxHead('/boot.ipxe', ['X-Del: a\x7fb'])], 400, 'DEL in a value');
  await refused([nginxHead('/boot.ipxe', ['Content-Length: 00'])], 400, 'Content-Length 00');
  await refused([nginxHead('/boot.ipxe', [], 'SUCCESS', fp1, 'FOO')], 400, 'a method node:http does not know');
  await refused([nginxHead('/boot.ipxe', ['Transfer-Encoding: chunked', 'Content-Length: 0'])], 400, 'Transfer-Encoding and Content-Length');
  assert.ok(logs.some((l) => l.includes('400 refused a request head: a Transfer-Encoding header')), 'the refusal is logged with its reason');
});

test('a head longer than 8 KiB gets 431 and is closed, whether it ends or not', async () => {
  await refused([nginxHead('/boot.ipxe', [`X-Big: ${'a'.repeat(9 * 1024)}`])], 431, '9 KiB head');
  await refused([`GET /boot.ipxe HTTP/1.1\r\nX-Big: ${'a'.repeat(9 * 1024)}`], 431, '9 KiB and no end');
  const near = nginxHead('/boot.ipxe', [`X-Big: ${'a'.repeat(7 * 1024)}`]);
  const { raw } = await exchange([near]);
  assert.equal(parseReplies(raw)[0]!.status, 200, 'a 7 KiB head is still answered');
});

test('two requests in one write (pipelining): the first is answered, the second refused, the connection is closed', async () => {
  // node:http hands the first request over before it parses the second: only the second can be refused.
  const before = svc.stats().requests;
  const { raw, closed } = await exchange([nginxHead() + nginxHead()], { waitMs: 2000 });
  assert.equal(closed, true);
  const [first, second, ...more] = parseReplies(raw);
  assert.equal(first!.status, 200);
  assert.ok(first!.body.includes('who=dut1'));
  assert.equal(second!.status, 400);
  assert.equal(second!.headers.connection, 'close');
  assert.match(second!.body, /pipelining/);
  assert.equal(more.length, 0);
  assert.equal(svc.stats().requests - before, 1, 'the second request never reached the boot logic');
});

test('a request and garbage in one write: the request is answered first, then 400, and the connection is closed', async () => {
  const { raw, closed } = await exchange([nginxHead() + 'GARBAGE\r\n\r\n'], { waitMs: 2000 });
  assert.equal(closed, true);
  const replies = parseReplies(raw);
  assert.deepEqual(replies.map((r) => r.status), [200, 400]);
  assert.ok(replies[0]!.body.includes('who=dut1'));
});

test('other methods get 405 (Allow: GET, HEAD) and the connection is closed; duplicate identity headers are refused', async () => {
  const { raw, closed } = await exchange([nginxHead('/boot.ipxe', [], 'SUCCESS', fp1, 'DELETE')], { waitMs: 2000 });
  assert.equal(closed, true);
  const r = parseReplies(raw)[0]!;
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'GET, HEAD');
  const dup = await exchange([nginxHead('/boot.ipxe', ['x-ssl-client-verify: SUCCESS'])]);
  const d = parseReplies(dup.raw)[0]!;
  assert.equal(d.status, 403, 'a second X-SSL-Client-Verify, in another case, is seen as a duplicate');
  assert.ok(d.body.includes('x-ssl-client-verify header was sent more than once'));
  const over = await exchange([nginxHead(`/ipxe/${'a'.repeat(300)}`)]);
  assert.equal(parseReplies(over.raw)[0]!.status, 414);
});

/** An independent, deliberately simple statement of what the reader may answer 200 with a boot script. */
function validNginxRequest(bytes: Buffer): boolean {
  // RFC 9112 §2.2: empty lines before the request line are skipped (node:http's llhttp skips any CR and LF there).
  const s = bytes.toString('latin1').replace(/^[\r\n]+/, '');
  // RFC 9112 §3: a recipient MAY split the request line on runs of whitespace; node:http reads `GET  /x` as `GET /x`.
  const m = /^(GET|HEAD) +(\/[!-~]*) +HTTP\/1\.[01]\r\n((?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\x00-\x08\x0a-\x1f\x7f]*\r\n)*)\r\n$/.exec(s);
  if (!m) return false;
  const lines = m[3]!.split('\r\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).replace(/^[ \t]+|[ \t]+$/g, '')]);
  const one = (n: string) => lines.filter(([k]) => k === n);
  if (one('transfer-encoding').length > 0 || one('content-length').some(([, v]) => v !== '0') || one('content-length').length > 1) return false;
  const v = one('x-ssl-client-verify');
  const f = one('x-ssl-client-fingerprint');
  return v.length === 1 && v[0]![1] === 'SUCCESS' && f.length === 1 && f[0]![1]!.trim().toLowerCase().replace(/:/g, '') === fp1;
}

// Seeded, so a failure is replayed exactly: the seed is printed, IPXE_FARM_FUZZ_SEED=N runs another series.
const SEED = Number(process.env.IPXE_FARM_FUZZ_SEED ?? 20261206) >>> 0;
let state = SEED;
function random(): number {
  // mulberry32
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randomBuffer = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));

function mutate(base: Buffer): Buffer {
  const b = Buffer.from(base);
  const out: number[] = [...b];
  const n = 1 + Math.floor(random() * 4);
  const interesting = [0, 9, 10, 13, 32, 58, 127, 0xff, 0x80];
  for (let i = 0; i < n; i++) {
    const at = Math.floor(random() * out.length);
    const byte = random() < 0.5 ? interesting[Math.floor(random() * interesting.length)]! : Math.floor(random() * 256);
    const op = random();
    if (op < 0.4) out[at] = byte;
    else if (op < 0.7) out.splice(at, 0, byte);
    else out.splice(at, 1 + Math.floor(random() * 8));
  }
  return Buffer.from(out);
}

test('2,000 random and mutated heads never crash the service, never get a boot script unless valid, and it still answers', async (t) => {
  t.diagnostic(`fuzz seed ${SEED} (IPXE_FARM_FUZZ_SEED)`);
  const bases = [
    Buffer.from(nginxHead()), Buffer.from(nginxHead('/ipxe/52:54:00:00:00:01')), Buffer.from(nginxHead('/boot.ipxe', [], 'FAILED:certificate revoked')),
    Buffer.from(nginxHead('/boot.ipxe', ['Content-Length: 0'])), Buffer.from(nginxHead('/boot.ipxe', ['Connection: close'], 'SUCCESS', fp1, 'HEAD', '1.0')),
  ];
  const cases: Buffer[] = [];
  for (let i = 0; i < 2000; i++) {
    if (i % 10 === 0) cases.push(randomBuffer(1 + Math.floor(random() * 300)));
    else cases.push(mutate(bases[i % bases.length]!));
  }
  let booted = 0;
  let validSeen = 0;
  const statuses = new Map<number, number>();
  for (let i = 0; i < cases.length; i += 16) {
    await Promise.all(cases.slice(i, i + 16).map(async (bytes) => {
      const { raw, closed } = await exchange([bytes], { endAfter: true, waitMs: 3000 });
      assert.ok(closed, 'the service closes a half-closed connection');
      const valid = validNginxRequest(bytes);
      if (valid) validSeen++;
      const text = raw.toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (text.includes(`token=${SECRET}`)) {
        booted++;
        assert.ok(valid, `a boot script for a request that is not nginx's valid SUCCESS request: ${JSON.stringify(bytes.toString('latin1'))}`);
      }
      if (status === 400 || status === 431) assert.ok(!text.slice(12).includes('HTTP/1.1 '), `one answer after a refusal: ${JSON.stringify(bytes.toString('latin1'))} got ${JSON.stringify(text)}`);
    }));
  }
  const r = await exchange([nginxHead()]);
  assert.equal(parseReplies(r.raw)[0]!.status, 200, 'the service still answers after the fuzz');
  assert.ok(booted > 0 && validSeen > 0, `some mutations stay valid and are answered (${booted} boots, ${validSeen} valid)`);
  assert.ok((statuses.get(400) ?? 0) > 500, `most mutations are refused: ${JSON.stringify([...statuses])}`);
});

test('differential: the service and a bare node:http server around answer() give the same status and body for valid requests', async () => {
  const sock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wire-diff-')), 'old.sock');
  const old = http.createServer((req, res) => {
    const a = answer(svc.reloader.state, req);
    res.writeHead(a.status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : a.body);
  });
  await new Promise<void>((r) => old.listen(sock, () => r()));
  try {
    const requests = [
      nginxHead(), nginxHead('/ipxe'), nginxHead('/ipxe/52:54:00:00:00:01'), nginxHead('/ipxe/52%3a54%3a00%3a00%3a00%3a01'), nginxHead('/ipxe/52:54:00:00:00:02'),
      nginxHead('/why.ipxe'), nginxHead('/boot.ipxe?x=1'), nginxHead('/nope'), nginxHead('/boot.ipxe', [], 'NONE', ''), nginxHead('/boot.ipxe', [], 'FAILED:certificate has expired'),
      nginxHead('/boot.ipxe', [], 'SUCCESS', 'ab'.repeat(20)), nginxHead('/boot.ipxe', ['X-SSL-Client-Fingerprint: other']), nginxHead('/boot.ipxe', [], 'SUCCESS', fp1.toUpperCase()),
      nginxHead(`/ipxe/${'b'.repeat(300)}`), nginxHead('/boot.ipxe', [], 'SUCCESS', fp1, 'POST'), nginxHead('/boot.ipxe', [], 'SUCCESS', fp1, 'GET', '1.0'),
    ];
    for (const head of requests) {
      const viaService = parseReplies((await exchange([head], { waitMs: 200 })).raw)[0]!;
      const viaHttp = await new Promise<Reply>((resolve, reject) => {
        const c = net.connect(sock, () => c.end(head));
        const got: Buffer[] = [];
        c.on('data', (d) => got.push(d));
        c.on('error', reject);
        c.on('close', () => {
          const s = Buffer.concat(got).toString('latin1');
          const end = s.indexOf('\r\n\r\n');
          let body = s.slice(end + 4);
          // node:http may answer chunked; the bodies here are small and come in one chunk.
          if (/transfer-encoding: chunked/i.test(s.slice(0, end))) body = body.slice(body.indexOf('\r\n') + 2, body.lastIndexOf('\r\n0\r\n'));
          resolve({ status: Number(s.slice(9, 12)), headers: {}, body: Buffer.from(body, 'latin1').toString('utf8') });
        });
      });
      assert.equal(viaService.status, viaHttp.status, head.split('\r\n')[0]);
      assert.equal(viaService.body, viaHttp.body, head.split('\r\n')[0]);
    }
  } finally {
    await new Promise((r) => old.close(r));
  }
});

test('close() ends kept-alive connections at once', async () => {
  // Runs last: the service is closed here (after() closing it again is harmless).
  const c = net.connect(svc.socket);
  await new Promise((r) => c.once('connect', r));
  assert.equal((await ask(c, nginxHead())).status, 200);
  const closedAt = new Promise<number>((r) => c.once('close', () => r(Date.now())));
  const t0 = Date.now();
  await svc.close();
  assert.ok((await closedAt) - t0 < 2000);
  assert.ok(!fs.existsSync(svc.socket), 'the socket file is removed');
});
