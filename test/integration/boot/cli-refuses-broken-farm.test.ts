import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { farmLayout } from '../../../src/core/farm/layout';
import { issueClient, readPkiIndex } from '../../../src/core/pki';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { parseIpxeScript } from '../../unit/boot/ipxeParse';
import { socketGet } from './socketClient';
import { openFarm } from '../../../src/core/farm/handle';

// Issue 13, finding 1 (the CLI side) and finding 4, through the real CLI: the CLI refuses to write a farm the boot
// service would refuse to serve (exit 1, nothing written, one sentence), unless --allow-missing says a file comes
// later; names are never found through the JavaScript prototype chain.

const repo = path.resolve(__dirname, '..', '..', '..', '..');
let cli = '';
let root = '';
let svc: BootService | undefined;

before(async () => {
  const esbuild = await import('esbuild');
  cli = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-cli-')), 'cli.js');
  await esbuild.build({ entryPoints: [path.join(repo, 'src', 'cli', 'main.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], outfile: cli, external: ['vscode'], logLevel: 'error' });
  root = await farmWithPki();
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'k');
  await issueClient(await openFarm(root), 'dut9');
  const setup = [
    ['secret', 'set', 's3key'],
    ['profile', 'add', 'ci', '--kernel', 'vmlinuz', '--cmdline', 'console=ttyS0 who={{client.name}} disk={{client.vars.disk}} key={{secret.s3key}}'],
    ['client', 'set', 'dut1', '--profile', 'ci', '--var', 'disk=/dev/vda'],
    ['client', 'set', 'dut2', '--profile', 'ci', '--var', 'disk=/dev/vdb'],
  ];
  for (const args of setup) {
    const r = farmCli(args, 'cli-secret-value-77\n');
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  }
});
after(async () => { await svc?.close().catch(() => undefined); });

function farmCli(args: string[], input?: string) {
  return spawnSync(process.execPath, [cli, ...args, '--farm', root], { encoding: 'utf8', input, timeout: 30_000 });
}

/** Exit 1, the farm file byte for byte as before, and the reason in one sentence on stderr. */
function assertRefused(args: string[], reason: RegExp): void {
  const file = farmLayout(root).farmFile;
  const before = fs.readFileSync(file, 'utf8');
  const r = farmCli(args);
  assert.equal(r.status, 1, `${args.join(' ')} must fail: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, reason, args.join(' '));
  assert.equal(fs.readFileSync(file, 'utf8'), before, `${args.join(' ')}: nothing written`);
}

test('finding 1: the CLI refuses each mapping the service would refuse, writes nothing and says why', () => {
  assertRefused(['profile', 'add', 'next', '--kernel', 'vmlinuz-6.12'], /vmlinuz-6\.12.*does not exist.*--allow-missing/);
  assertRefused(['profile', 'add', 'etc', '--kernel', '../../etc/passwd'], /leaves the files\/ folder/);
  assertRefused(['profile', 'add', 'nope', '--kernel', 'vmlinuz', '--cmdline', 'k={{secret.nope}}'], /secret "nope"/);
  assertRefused(['profile', 'add', 'bogus', '--kernel', 'vmlinuz', '--cmdline', 'k={{bogus}}'], /\{\{bogus\}\}/);
  assertRefused(['profile', 'set', 'ci', '--kernel', 'vmlinuz-6.12'], /does not exist/);
  assertRefused(['client', 'set', 'dut2', '--var', 'disk=a || shell'], /\|\|/);
  assertRefused(['client', 'set', 'dut2', '--var', 'disk=${net0/ip}'], /\$\{/);
  assertRefused(['client', 'set', 'dut2', '--var', 'disk=a"b'], /double quote/);
  assertRefused(['client', 'set', 'dut2', '--var', 'disk=a  b'], /several spaces/);
  assertRefused(['client', 'set', 'dut3', '--profile', 'ci'], /client "dut3" has no variable "disk"/);
  // The generic setter writes the same file, so it refuses the same things.
  assertRefused(['config', 'set', '/clients/dut2/vars/disk', 'a || shell'], /\|\|/);
  assertRefused(['config', 'set', '/profiles/ci/kernel', 'vmlinuz-6.12'], /does not exist.*--allow-missing/);
  // Removing a secret a profile uses would refuse its clients just the same.
  const secrets = fs.readFileSync(farmLayout(root).secrets, 'utf8');
  const rm = farmCli(['secret', 'rm', 's3key']);
  assert.equal(rm.status, 1, rm.stdout);
  assert.match(rm.stderr, /Removing secret "s3key" would refuse clients at boot: .*secret "s3key"/);
  assert.equal(fs.readFileSync(farmLayout(root).secrets, 'utf8'), secrets, 'secrets.json unchanged');
});

test('finding 4: names are looked up as own entries only (constructor, toString, __proto__)', () => {
  assertRefused(['client', 'set', 'dut2', '--profile', 'constructor'], /profile "constructor", which is not defined/);
  assertRefused(['client', 'rm', 'constructor'], /no client "constructor"/);
  assertRefused(['profile', 'rm', 'constructor'], /no profile "constructor"/);
  assertRefused(['profile', 'set', 'constructor', '--cmdline', 'x'], /no profile "constructor"/);
  assertRefused(['profile', 'add', 'tostr', '--kernel', 'vmlinuz', '--cmdline', 'k={{secret.toString}}'], /no secret "toString"/);
  assertRefused(['profile', 'set', 'ci', '--cmdline', 'k={{client.vars.constructor}}'], /no variable "constructor"/);
  const rm = farmCli(['secret', 'rm', 'constructor']);
  assert.equal(rm.status, 1, rm.stdout);
  assert.match(rm.stderr, /no secret "constructor"/);
  const rv = farmCli(['revoke', 'dut9', '--reason', 'constructor']);
  assert.equal(rv.status, 2, `a word --reason does not know is a usage error (issue 14): ${rv.stdout}`);
  assert.match(rv.stderr, /"constructor" is not a revocation reason/);
});

test('finding 1: with --allow-missing the kernel may come later; the service then serves the others and refuses that client with the reason', async () => {
  let r = farmCli(['profile', 'add', 'next', '--kernel', 'vmlinuz-6.12', '--allow-missing']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /vmlinuz-6\.12/, 'it still says what is missing');
  // Putting a client on that profile is a new refusal too: it needs the flag as well.
  assertRefused(['client', 'set', 'dut2', '--profile', 'next'], /profile next of client dut2 is broken: .*vmlinuz-6\.12.*does not exist.*--allow-missing/);
  r = farmCli(['client', 'set', 'dut2', '--profile', 'next', '--allow-missing']);
  assert.equal(r.status, 0, r.stderr);
  // Without the flag, another change that leaves the (already accepted) missing kernel alone is not blocked by it.
  r = farmCli(['client', 'set', 'dut1', '--var', 'disk=/dev/vdc']);
  assert.equal(r.status, 0, r.stderr);

  svc = await startBootService({ root, log: () => undefined, reloadIntervalMs: 60_000 });
  const idx = await readPkiIndex(root);
  const fp = (n: string) => idx.records.find((x) => x.kind === 'client' && x.name === n)!.sha1;
  const get = (n: string) => socketGet(svc!.socket, '/boot.ipxe', { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': fp(n) });
  const good = await get('dut1');
  assert.equal(good.status, 200, good.body);
  assert.match(good.body, /disk=\/dev\/vdc/);
  const bad = await get('dut2');
  assert.equal(bad.status, 403, bad.body);
  const echoes = parseIpxeScript(bad.body).commands.filter((c) => c.argv[0] === 'echo').map((c) => c.argv.slice(1).join(' '));
  assert.match(echoes[1]!, /vmlinuz-6\.12.*does not exist/);

  // The file arrives: dut2 boots at its next request, with no restart.
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz-6.12'), 'k2');
  await svc.reloader.check();
  assert.equal((await get('dut2')).status, 200);
});
