import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalNginxRuntime } from '../../../src/core/nginx';
import { bootSocketAccess } from '../../../src/core/nginx/socketAccess';
import { startBootService } from '../../../src/core/boot/service';
import { localBootFarm, startLocalNginx } from './localBootFarm';
import { nginxMissing } from './mtlsNginx';
import { httpsGet, type ClientTls } from './httpsClient';
import { resolveRuntime } from '../../../src/core/farm/runtimeChoice';

// `ipxe-farm serve` under socket activation: the socket outlives the process, so boots through nginx keep working while
// the service restarts. The stand-in for systemd below does what a .socket unit with Restart=always does: it owns the
// listening socket (mode 0660, nginx's group), passes it as fd 3 with LISTEN_PID/LISTEN_FDS, and starts the service
// again whenever it exits.
const HOLDER = `
import os, signal, socket, subprocess, sys
path, gid, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o660)
if gid >= 0: os.chown(path, -1, gid)
s.listen(511)
if s.fileno() != 3: os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
state = {"stop": False, "child": None}
def stop(*_):
    state["stop"] = True
    if state["child"]: state["child"].terminate()
signal.signal(signal.SIGTERM, stop)
def listen_env():
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.environ["LISTEN_FDS"] = "1"
while not state["stop"]:
    state["child"] = subprocess.Popen(argv, pass_fds=(3,), preexec_fn=listen_env, stdout=subprocess.DEVNULL)
    print("started %d" % state["child"].pid, flush=True)
    state["child"].wait()
`;

const skip = nginxMissing();
let root = '';
let port = 0;
let tls: ClientTls;
let runtime: LocalNginxRuntime | undefined;
let holder: ChildProcess | undefined;
let holderOut = '';

before(async () => {
  if (skip) return;
  const esbuild = await import('esbuild');
  const cli = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-cli-')), 'cli.js');
  await esbuild.build({ entryPoints: [path.join(process.cwd(), 'src', 'cli', 'main.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], outfile: cli, external: ['vscode'], logLevel: 'error' });
  root = await localBootFarm();
  // One ordinary start gives the socket's folders their modes and group, as `ipxe-farm serve` does on a new farm.
  await (await startBootService({ root, log: () => undefined })).close();
  const up = await startLocalNginx(root);
  ({ port, tls, runtime } = up);
  const { farm, layout } = up;
  const access = bootSocketAccess(farm, resolveRuntime(farm, layout).kind);
  holder = spawn('python3', ['-c', HOLDER, layout.bootSocket, String(access.kind === 'group' ? access.gid ?? -1 : -1), process.execPath, cli, 'serve', '--farm', root], { stdio: ['ignore', 'pipe', 'pipe'] });
  holder.stdout!.setEncoding('utf8').on('data', (d: string) => (holderOut += d));
  holder.stderr!.setEncoding('utf8').on('data', (d: string) => (holderOut += d));
  const until = Date.now() + 10_000;
  while (!holderOut.includes('started')) {
    if (Date.now() > until || holder.exitCode !== null) throw new Error(`the socket holder did not start the service: ${holderOut}`);
    await new Promise((r) => setTimeout(r, 20));
  }
});

after(async () => {
  if (holder && holder.exitCode === null) {
    const gone = new Promise((r) => holder!.once('exit', r));
    holder.kill('SIGTERM');
    await gone;
  }
  await runtime?.down().catch(() => undefined);
});

const pids = () => [...holderOut.matchAll(/started (\d+)/g)].map((m) => Number(m[1]));

test('boots through nginx keep succeeding while a socket-activated service restarts three times', { skip, timeout: 120_000 }, async () => {
  // Sent while the service may still be starting: the connection waits in the socket's backlog.
  const first = await httpsGet(port, '/boot.ipxe', tls);
  assert.equal(first.status, 200, first.body);
  let stop = false;
  const seen: Record<string, number> = {};
  const loop = async () => {
    while (!stop) {
      const r = await httpsGet(port, '/boot.ipxe', tls).then((x) => (x.status === 200 && x.body.includes('h=dut1') ? '200' : `${x.status} ${x.body.slice(0, 80)}`), (e: Error) => e.message);
      seen[r] = (seen[r] ?? 0) + 1;
    }
  };
  const loops = Array.from({ length: 6 }, loop);
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 700));
    const running = pids().length;
    process.kill(pids().at(-1)!, 'SIGTERM');
    const until = Date.now() + 15_000;
    while (pids().length === running) {
      assert.ok(Date.now() < until, 'the service was not started again');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await new Promise((r) => setTimeout(r, 700));
  stop = true;
  await Promise.all(loops);
  assert.equal(pids().length, 4, holderOut);
  assert.deepEqual(Object.keys(seen), ['200'], JSON.stringify(seen));
  assert.ok(seen['200']! > 20, JSON.stringify(seen));
});
