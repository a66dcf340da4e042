import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ipxeFarm = (args: string[], cwd: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd });

test('config get/set: a headless farm reads and changes settings; bad ones are refused and nothing is written', () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cli-config-')), 'lab');
  assert.equal(ipxeFarm(['init', dir], os.tmpdir()).status, 0);
  const file = path.join(dir, 'ipxe-farm.json');

  const get = ipxeFarm(['config', 'get', 'qemu.memoryMiB'], dir);
  assert.equal(get.status, 0, get.stderr);
  assert.equal(get.stdout.trim(), '512');

  const set = ipxeFarm(['config', 'set', 'server.address', '192.168.10.1'], dir);
  assert.equal(set.status, 0, set.stderr);
  assert.match(set.stdout, /server\.address = "192\.168\.10\.1"/);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).server.address, '192.168.10.1');

  const list = ipxeFarm(['config', 'set', 'ipxe.targets', '["iso","efi"]', '--json'], dir);
  assert.equal(list.status, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout).value, ['iso', 'efi']);

  // Refusals: an unknown key and a bad value are usage/farm errors with one sentence, and the file is untouched.
  const before = readFileSync(file, 'utf8');
  const typo = ipxeFarm(['config', 'set', 'server.adress', '10.0.0.1'], dir);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /no setting server\.adress/);
  const bad = ipxeFarm(['config', 'set', 'server.httpsPort', '70000'], dir);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /httpsPort/);
  assert.equal(readFileSync(file, 'utf8'), before);

  // --unset brings the default back, and the rest of a hand-edited layout stays.
  writeFileSync(file, before.replace('"accel": "auto"', '"accel": "tcg"'));
  const unset = ipxeFarm(['config', 'set', 'qemu.accel', '--unset'], dir);
  assert.equal(unset.status, 0, unset.stderr);
  assert.equal(ipxeFarm(['config', 'get', 'qemu.accel'], dir).stdout.trim(), 'auto');
  assert.equal(ipxeFarm(['config', 'get', 'nope'], dir).status, 2);
});
