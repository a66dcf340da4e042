import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ipxeFarm = (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: opts.cwd, env: opts.env ?? process.env });

test('--help lists the commands and exits 0; no arguments is a usage error (2)', () => {
  const help = ipxeFarm(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /init \[DIR\]/);
  assert.match(help.stdout, /doctor/);
  assert.equal(ipxeFarm([]).status, 2);
});

test('an unknown command or option exits 2 with one sentence on stderr', () => {
  const r = ipxeFarm(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^ipxe-farm: Unknown command "frobnicate"\. Run `ipxe-farm --help`/);
  const o = ipxeFarm(['init', '--bogus']);
  assert.equal(o.status, 2);
  assert.match(o.stderr, /bogus/);
});

test('init creates a farm; a second init fails with exit 1 and --json carries the error', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-'));
  const first = ipxeFarm(['init', 'lab', '--json'], { cwd: dir });
  assert.equal(first.status, 0, first.stderr);
  const out = JSON.parse(first.stdout);
  assert.equal(out.farmFile, path.join(dir, 'lab', 'ipxe-farm.json'));
  assert.equal(JSON.parse(readFileSync(out.farmFile, 'utf8')).name, 'lab');
  const second = ipxeFarm(['init', 'lab', '--json'], { cwd: dir });
  assert.equal(second.status, 1);
  assert.match(JSON.parse(second.stdout).error, /already exists/);
  const show = ipxeFarm(['show', '--json'], { cwd: path.join(dir, 'lab') });
  assert.equal(JSON.parse(show.stdout).farm.name, 'lab');
});

test('commands outside a farm say how to make one', () => {
  const r = ipxeFarm(['show'], { cwd: mkdtempSync(path.join(os.tmpdir(), 'nofarm-')) });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /No ipxe-farm\.json .* Run `ipxe-farm init`, or pass --farm DIR\./);
});

test('doctor names the missing programs and the apt-get line that installs them', () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'nopath-'));
  const r = ipxeFarm(['doctor', '--json'], { env: { ...process.env, PATH: empty, IPXE_SRC: path.join(empty, 'none'), XDG_CACHE_HOME: empty } });
  assert.equal(r.status, 1, 'a machine without nginx/qemu/make must fail the doctor');
  const { checks } = JSON.parse(r.stdout) as { checks: { id: string; ok: boolean; fix?: string }[] };
  const byId = new Map(checks.map((c) => [c.id, c]));
  assert.equal(byId.get('nginx')?.ok, false);
  assert.equal(byId.get('nginx')?.fix, 'sudo apt-get install -y nginx');
  assert.equal(byId.get('qemu-system-x86_64')?.fix, 'sudo apt-get install -y qemu-system-x86');
  assert.equal(byId.get('ipxe-source')?.ok, false);
  assert.match(byId.get('ipxe-source')!.fix!, /ipxe-farm ipxe source/);
  const text = ipxeFarm(['doctor'], { env: { ...process.env, PATH: empty } });
  assert.match(text.stdout, /Install them all with: sudo apt-get install -y .*nginx/);
});

test('config set ipxe.proxyDhcp (exit 0) and a non-boolean (exit 1, file kept); doctor prints the no-pxedhcp lines', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-dhcp-'));
  assert.equal(ipxeFarm(['init', 'lab'], { cwd: dir }).status, 0);
  const lab = path.join(dir, 'lab');
  const ok = ipxeFarm(['config', 'set', 'ipxe.proxyDhcp', 'true', '--json'], { cwd: lab });
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), { key: 'ipxe.proxyDhcp', value: true });
  const text = readFileSync(path.join(lab, 'ipxe-farm.json'), 'utf8');
  assert.equal(JSON.parse(text).ipxe.proxyDhcp, true);
  const bad = ipxeFarm(['config', 'set', 'ipxe.proxyDhcp', 'maybe'], { cwd: lab });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /proxyDhcp must be true or false/);
  assert.equal(readFileSync(path.join(lab, 'ipxe-farm.json'), 'utf8'), text);
  const doctor = ipxeFarm(['doctor'], { cwd: lab });
  assert.match(doctor.stdout, /^ {2}dnsmasq: {4}dhcp-option=encap:175,176,1b$/m);
  assert.match(doctor.stdout, /option ipxe\.no-pxedhcp code 176 = unsigned integer 8;/);
  assert.match(doctor.stdout, /ipxe\.proxyDhcp true/, 'says this farm\'s built images wait too');
});
