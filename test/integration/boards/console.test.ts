import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import { tempFarm } from '../../support/farm';
import { boardToolsMissing, Daemon, startSer2net } from '../../support/boards';
import { updateFarm } from '../../../src/core/farm/load';
import { setSecret } from '../../../src/core/secrets/store';
import { tcpConsole } from '../../../src/core/console/tcp';
import { lockFileFor, serialConsole } from '../../../src/core/console/serial';
import type { ConsoleStream } from '../../../src/core/console/stream';

// Real console paths: ser2net (raw and telnet) exposing one end of a socat pty pair on 127.0.0.1, and the serial driver
// on a socat pty. The "board" writes into the other end of the pair.

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const SECRET = 'consoleSecret-91xq';
let skip = '';
let root = '';
let dir = '';
const daemons: Daemon[] = [];
const ptys: ChildProcess[] = [];

async function ptyPair(name: string): Promise<{ board: string; dev: string; proc: ChildProcess }> {
  const board = path.join(dir, `${name}.board`);
  const dev = path.join(dir, `${name}.dev`);
  const proc = spawn('socat', [`pty,raw,echo=0,link=${board}`, `pty,raw,echo=0,link=${dev}`], { stdio: 'ignore' });
  ptys.push(proc);
  for (let i = 0; i < 100 && !(fs.existsSync(board) && fs.existsSync(dev)); i++) await new Promise((r) => setTimeout(r, 50));
  return { board, dev, proc };
}

function collect(c: ConsoleStream) {
  let text = '';
  const states: string[] = [];
  c.onData((d) => { text += d; });
  c.onState((s, why) => states.push(`${s}: ${why}`));
  return { text: () => text, states };
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) { if (ok()) return; await new Promise((r) => setTimeout(r, 50)); }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  skip = boardToolsMissing(['ser2net', 'socat', 'stty']) ?? '';
  if (skip) return;
  root = await tempFarm('consolefarm');
  dir = path.join(path.dirname(root), 'rig');
  fs.mkdirSync(dir, { recursive: true });
  await setSecret(root, 'token', SECRET);
});

after(async () => {
  for (const d of daemons) await d.stop();
  for (const p of ptys) p.kill('SIGKILL');
});

test('tcp (ser2net raw): `ipxe-farm console` shows the board, masks secrets, explains iPXE errors, keeps a 0600 timestamped log', { timeout: 90_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const pair = await ptyPair('raw');
  const s2n = await startSer2net(path.join(dir, 's2n-raw'), pair.dev, 'raw');
  daemons.push(s2n);
  await updateFarm(root, (raw) => { raw.clients = { rack1: { macs: [], vars: {}, console: { driver: 'tcp', host: '127.0.0.1', port: s2n.port, protocol: 'raw' } } }; });
  const log = path.join(dir, 'rack1-console.log');
  const child = spawn(process.execPath, [cli, 'console', 'rack1', '--until', 'BOARD-DONE', '--timeout', '60', '--log', log], { cwd: root });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  await until('the console to connect', () => /connected: connected to 127\.0\.0\.1/.test(err), 30_000);
  fs.writeFileSync(pair.board, `https://10.0.2.100:8443/boot.ipxe... Permission denied (https://ipxe.org/0227e13c)\r\nlinux says token=${SECRET}\r\nBOARD-DONE\r\n`);
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
  assert.equal(code, 0, err);
  assert.match(out, /Permission denied \(https:\/\/ipxe\.org\/0227e13c\)\r?\n\r?\n?\[ipxe-farm\] 0227e13c: /);
  assert.match(out, /token=«redacted»/);
  assert.ok(!out.includes(SECRET) && !err.includes(SECRET), 'the secret reached the screen');
  assert.equal(fs.statSync(log).mode & 0o777, 0o600);
  const kept = fs.readFileSync(log, 'utf8');
  assert.ok(!kept.includes(SECRET), 'the secret reached the log');
  assert.match(kept, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z .*boot\.ipxe\.\.\. Permission denied/m);
  assert.match(kept, /^\S+ \[ipxe-farm\] 0227e13c: /m);
});

test('tcp: the console reconnects after ser2net is killed and restarted, and says why while it waits', { timeout: 90_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const pair = await ptyPair('re');
  let s2n = await startSer2net(path.join(dir, 's2n-re'), pair.dev, 'raw');
  const c = tcpConsole('rack2', { host: '127.0.0.1', port: s2n.port, protocol: 'raw' });
  const seen = collect(c);
  try {
    await c.ready(20_000);
    fs.writeFileSync(pair.board, 'before-drop\r\n');
    await until('data before the drop', () => seen.text().includes('before-drop'));
    await s2n.stop();
    await until('the console to notice the drop', () => seen.states.some((s) => /^waiting: nothing listens at 127\.0\.0\.1:\d+ \(is the console server running\?/.test(s)));
    s2n = await startSer2net(path.join(dir, 's2n-re'), pair.dev, 'raw', s2n.port);
    daemons.push(s2n);
    await until('the console to reconnect', () => seen.states.filter((s) => s.startsWith('connected')).length >= 2);
    fs.writeFileSync(pair.board, 'after-restart\r\n');
    await until('data after the restart', () => seen.text().includes('after-restart'));
  } finally {
    c.close();
  }
});

test('tcp: a board whose device is missing, and a telnet console server, each read right', { timeout: 90_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const missing = await startSer2net(path.join(dir, 's2n-missing'), path.join(dir, 'no-such-adapter'), 'raw');
  daemons.push(missing);
  const c = tcpConsole('rack3', { host: '127.0.0.1', port: missing.port, protocol: 'raw' });
  const seen = collect(c);
  await until('the missing-device sentence', () => seen.states.some((s) => /cannot open rack3's serial device \("Device open failure/.test(s)));
  c.close();
  assert.equal(seen.text(), '', 'ser2net\'s refusal is a state, not console text');
  const pair = await ptyPair('tn');
  const tn = await startSer2net(path.join(dir, 's2n-tn'), pair.dev, 'telnet');
  daemons.push(tn);
  const ct = tcpConsole('rack4', { host: '127.0.0.1', port: tn.port, protocol: 'telnet' });
  const got = collect(ct);
  try {
    await ct.ready(20_000);
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(pair.board, 'telnet-line\r\n');
    await until('telnet data', () => got.text().includes('telnet-line'));
    assert.ok(!/[\xfb-\xff]/.test(got.text()), 'telnet negotiation bytes leaked into the console text');
  } finally {
    ct.close();
  }
});

test('serial: reads a pty at its baud rate; a locked device is busy (holder named), a missing one is said, both recover', { timeout: 90_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const pair = await ptyPair('ser');
  const lock = lockFileFor(pair.dev);
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  fs.writeFileSync(lock, `${String(holder.pid).padStart(10)}\n`);
  const c = serialConsole('bench1', { device: pair.dev, baud: 115200 });
  const seen = collect(c);
  try {
    await until('the busy sentence', () => seen.states.some((s) => s.includes(`the serial device ${pair.dev} of bench1 is busy: sleep (pid ${holder.pid}) holds it`)));
    holder.kill('SIGKILL');
    await c.ready(20_000);
    assert.equal(Number(fs.readFileSync(lock, 'utf8').trim()), process.pid, 'the console holds the lock while open');
    assert.match(spawnSync('stty', ['-F', pair.dev], { encoding: 'utf8' }).stdout, /speed 115200 baud/);
    fs.writeFileSync(pair.board, 'serial-hello\r\n');
    await until('serial data', () => seen.text().includes('serial-hello'));
    c.write('typed-key');
    const echoed = fs.openSync(pair.board, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    await new Promise((r) => setTimeout(r, 300));
    const buf = Buffer.alloc(64);
    let n = 0;
    try { n = fs.readSync(echoed, buf); } catch { /* EAGAIN */ }
    fs.closeSync(echoed);
    assert.equal(buf.subarray(0, n).toString(), 'typed-key', 'keys typed reach the board');
    pair.proc.kill('SIGKILL');
    await until('the device-gone sentence', () => seen.states.some((s) => /went away|does not exist/.test(s)));
  } finally {
    c.close();
    holder.kill('SIGKILL');
  }
  assert.ok(!fs.existsSync(lock), 'the lock is released on close');
  const none = serialConsole('bench2', { device: path.join(dir, 'ttyUSB9'), baud: 115200 });
  const s2 = collect(none);
  await until('the missing sentence', () => s2.states.some((s) => s.includes(`the serial device ${path.join(dir, 'ttyUSB9')} of bench2 does not exist`)));
  none.close();
});
