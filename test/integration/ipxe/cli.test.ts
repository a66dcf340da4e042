import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { tempFarm } from '../../support/farm';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ipxeFarm = (args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: opts.cwd, input: opts.input, env: opts.env ?? process.env, timeout: 60_000 });

test('decode explains a code with cause and fix; --json gives the fields', () => {
  const r = ipxeFarm(['decode', 'https://ipxe.org/0216eb3c']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^iPXE error 0216eb3c: No usable certificates \(EACCES in x509/);
  assert.match(r.stdout, /server-chain\.crt/);
  const j = ipxeFarm(['decode', '1d0c6439', '--json']);
  assert.equal(j.status, 0);
  const info = JSON.parse(j.stdout);
  assert.equal(info.errno, 'EIO');
  assert.equal(info.file, 'httpcore');
  assert.equal(info.known, true);
});

test('decode - finds every code in a serial log on stdin', () => {
  const log = 'iPXE initialising devices...ok\nhttps://10.0.2.100:8443/boot.ipxe... Permission denied (https://ipxe.org/0216ea3c)\nCould not boot: Operation not permitted (https://ipxe.org/410de13c)\n';
  const r = ipxeFarm(['decode', '-'], { input: log });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^line 2: .*0216ea3c\)\niPXE error 0216ea3c: Incorrect certificate name/m);
  assert.match(r.stdout, /^line 3: .*\niPXE error 410de13c: Received fatal alert/m);
  assert.equal(ipxeFarm(['decode', '-'], { input: 'all fine\n' }).stdout.trim(), 'No iPXE error codes in the input.');
});

test('bad words are usage errors (exit 2) in one sentence', () => {
  for (const args of [['decode', 'nope'], ['decode'], ['build'], ['build', 'dut1', '--target', 'floppy'], ['build', 'dut1', '--debug', 'tls;id']]) {
    const r = ipxeFarm(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^ipxe-farm: /);
  }
});

test('build in a farm without a CA says what to do, exit 1', async () => {
  const root = await tempFarm('nocafarm');
  const r = ipxeFarm(['build', 'dut1', '--farm', root]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /dut1: The farm has no CA yet .*ipxe-farm ca init/);
});

test('ipxe source names the tree and its version, or says why there is none', async () => {
  const root = await tempFarm('srcfarm');
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: path.join(root, 'no-cache') };
  delete env.IPXE_SRC;
  const none = ipxeFarm(['ipxe', 'source', '--farm', root], { env });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /No iPXE source tree: .* Run `ipxe-farm ipxe source --fetch`/);
  const bad = ipxeFarm(['ipxe', 'source', '--ref', 'a..b', '--farm', root], { env });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /not a valid git tag/);
});
