import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { farmLayout } from '../../../src/core/farm/layout';
import { readPkiIndex } from '../../../src/core/pki';
import { which } from '../../../src/core/process/light';
import { socketGet } from './socketClient';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
let cli = '';
let root = '';
const SECRET = 'cli-secret-Vq9w8e7r';

before(async () => {
  // A private build of the CLI: out/cli.js is shared with other work in progress.
  const esbuild = await import('esbuild');
  cli = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-cli-')), 'cli.js');
  await esbuild.build({ entryPoints: [path.join(repo, 'src', 'cli', 'main.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], outfile: cli, external: ['vscode'], logLevel: 'error' });
  root = await farmWithPki();
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'k');
});

const farmCli = (args: string[], input?: string) =>
  spawnSync(process.execPath, [cli, ...args, '--farm', root], { encoding: 'utf8', input, timeout: 30_000 });

test('a farm is set up without editing JSON: secret, profile, client; script masks secrets unless --reveal', () => {
  const s = farmCli(['secret', 'set', 'minio'], `${SECRET}\n`);
  assert.equal(s.status, 0, s.stderr);
  assert.equal(fs.statSync(farmLayout(root).secrets).mode & 0o777, 0o600);
  const bad = farmCli(['secret', 'set', 'evil'], 'a\nshell\n');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /line break or control character/);

  let r = farmCli(['profile', 'add', 'ci', '--kernel', 'vmlinuz', '--cmdline', 'console=ttyS0 key={{secret.minio}} h={{client.name}}']);
  assert.equal(r.status, 0, r.stderr);
  r = farmCli(['profile', 'add', 'broken', '--kernel', 'missing.img']);
  assert.equal(r.status, 1, 'a kernel that is not there is refused unless it comes later (issue 13)');
  r = farmCli(['profile', 'add', 'broken', '--kernel', 'missing.img', '--allow-missing']);
  assert.equal(r.status, 0, r.stderr); // the boot checks still report it (below)
  r = farmCli(['client', 'set', 'dut1', '--profile', 'ci', '--mac', '52-54-00-AA-BB-CC']);
  assert.equal(r.status, 0, r.stderr);
  r = farmCli(['profile', 'rm', 'ci']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /used by dut1/);
  r = farmCli(['profile', 'rm', 'broken']);
  assert.equal(r.status, 0, r.stderr);

  const masked = farmCli(['script', 'dut1']);
  assert.equal(masked.status, 0, masked.stderr);
  assert.match(masked.stdout, /^#!ipxe\n/);
  assert.ok(!masked.stdout.includes(SECRET) && masked.stdout.includes('key=••••••'));
  const revealed = farmCli(['script', 'dut1', '--reveal']);
  assert.ok(revealed.stdout.includes(`key=${SECRET}`));

  const list = farmCli(['secret', 'list']);
  assert.equal(list.stdout.trim(), 'minio');
  assert.ok(!list.stdout.includes(SECRET));
  const farm = JSON.parse(fs.readFileSync(farmLayout(root).farmFile, 'utf8'));
  assert.deepEqual(farm.clients.dut1.macs, ['52:54:00:aa:bb:cc']);
});

test('explain tells why, by client name or fingerprint; a client without mapping is refused with the reason', async () => {
  const idx = await readPkiIndex(root);
  const dut2 = idx.records.find((r) => r.kind === 'client' && r.name === 'dut2')!;
  const e1 = farmCli(['explain', 'dut1']);
  assert.equal(e1.status, 0, e1.stderr);
  assert.match(e1.stdout, /client dut1 boots profile ci \(set on the client\)/);
  const e2 = farmCli(['explain', dut2.sha1, '--json']);
  assert.equal(e2.status, 1);
  const j = JSON.parse(e2.stdout);
  assert.equal(j.ok, false);
  assert.match(j.steps.join('\n'), /client dut2 is not in the farm \(its certificate is valid but it has no boot mapping\) and the farm has no default profile/);
  // A client without a certificate yet: script previews what it will get, explain says why it cannot boot now.
  assert.equal(farmCli(['client', 'set', 'dut9', '--profile', 'ci']).status, 0);
  const pv = farmCli(['script', 'dut9']);
  assert.equal(pv.status, 0, pv.stderr);
  assert.match(pv.stdout, /h=dut9/);
  assert.match(pv.stderr, /no certificate yet/);
  const e9 = farmCli(['explain', 'dut9']);
  assert.equal(e9.status, 1);
  assert.match(e9.stdout, /no certificate yet[\s\S]*once issued, it boots profile ci/);
  const e3 = farmCli(['explain', 'nobody']);
  assert.equal(e3.status, 1);
  assert.match(e3.stderr, /neither a client of this farm nor a SHA-1 fingerprint/);
});

test('deploy writes systemd and quadlet units that systemd-analyze accepts', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-deploy-'));
  const r = farmCli(['deploy', 'systemd', path.join(dir, 'systemd'), '--bin', process.execPath, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const files: string[] = JSON.parse(r.stdout).files;
  assert.equal(files.length, 4);
  assert.ok(files.some((f) => f.endsWith('-boot.socket')), 'the socket unit');
  assert.ok(files.some((f) => f.endsWith('-metrics.service')), 'the metrics exporter unit');
  const boot = fs.readFileSync(files.find((f) => f.endsWith('-boot.service'))!, 'utf8');
  assert.match(boot, /^ExecStart=.* serve --farm /m);
  assert.match(boot, /^Restart=on-failure$/m);
  assert.match(boot, new RegExp(`^ReadOnlyPaths=${root}$`, 'm'));
  const nginx = fs.readFileSync(files.find((f) => f.endsWith('-nginx.service'))!, 'utf8');
  const layout = farmLayout(root);
  assert.ok(nginx.includes(`-v ${layout.socketDir}:${layout.socketDir} `), 'socket folder shared');
  assert.ok(nginx.includes(`-v ${layout.files}:${layout.files}:ro`), 'files read-only');
  assert.ok(!nginx.includes('ca.key'), 'the CA key never enters the container');
  const q = farmCli(['deploy', 'quadlet', path.join(dir, 'quadlet'), '--json']);
  assert.equal(q.status, 0, q.stderr);
  const qfiles: string[] = JSON.parse(q.stdout).files;
  const container = fs.readFileSync(qfiles.find((f) => f.endsWith('.container'))!, 'utf8');
  assert.match(container, /^\[Container\]$/m);
  assert.ok(container.includes(`Volume=${layout.socketDir}:${layout.socketDir}\n`));
  if (!which('systemd-analyze')) { t.skip('systemd-analyze is not installed: the units were not checked by systemd'); return; }
  const units = files.filter((f) => f.endsWith('.service') || f.endsWith('.socket'));
  const v = spawnSync('systemd-analyze', ['verify', '--man=no', ...units], { encoding: 'utf8', timeout: 30_000 });
  // systemd-analyze also complains about the host (no running systemd in a container); only our units' lines count.
  const ours = `${v.stdout}\n${v.stderr}`.split('\n').filter((l) => units.some((u) => l.includes(path.basename(u))));
  assert.deepEqual(ours, [], ours.join('\n'));
  assert.equal(v.status, 0, `${v.stdout}${v.stderr}`);
});

let serveChild: ReturnType<typeof spawn> | undefined;
after(() => { if (serveChild && serveChild.exitCode === null) serveChild.kill('SIGKILL'); });

test('serve runs in the foreground, answers on the socket, and stops cleanly on SIGTERM', async () => {
  const stderr: string[] = [];
  serveChild = spawn(process.execPath, [cli, 'serve', '--farm', root], { stdio: ['ignore', 'ignore', 'pipe'] });
  serveChild.stderr!.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  const socket = farmLayout(root).bootSocket;
  const until = Date.now() + 10_000;
  while (!stderr.join('').includes('listening on')) {
    if (Date.now() > until || serveChild.exitCode !== null) assert.fail(`serve did not start: ${stderr.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const idx = await readPkiIndex(root);
  const dut1 = idx.records.find((r) => r.kind === 'client' && r.name === 'dut1')!;
  const r = await socketGet(socket, '/boot.ipxe', { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': dut1.sha1 });
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(SECRET));
  const exited = new Promise<number | null>((resolve) => serveChild!.once('exit', (code) => resolve(code)));
  serveChild.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(!fs.existsSync(socket), 'socket removed on stop');
  assert.ok(!stderr.join('').includes(SECRET), 'no secret in the service log');
});
