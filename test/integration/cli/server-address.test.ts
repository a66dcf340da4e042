import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import { tempFarm } from '../../support/farm';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ipxeFarm = (args: string[], cwd: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd });

test('a farm whose server.address could inject into a script is refused by every CLI write, nothing written', async () => {
  const root = await tempFarm('addr');
  const file = path.join(root, 'ipxe-farm.json');
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  raw.server.address = '10.0.2.2 || shell ||';
  fs.writeFileSync(file, JSON.stringify(raw, null, 2));
  const before = fs.readFileSync(file, 'utf8');
  const line = before.split('\n').findIndex((l) => l.includes('"address"')) + 1;
  const r = ipxeFarm(['profile', 'add', 'linux', '--kernel', 'http://example.invalid/vmlinuz'], root);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`ipxe-farm\\.json:${line}:\\d+: /server/address "10\\.0\\.2\\.2 \\|\\| shell \\|\\|" is not an IP address or a DNS name`));
  assert.equal(fs.readFileSync(file, 'utf8'), before);
  const s = ipxeFarm(['script', 'dut1'], root);
  assert.equal(s.status, 1);
  assert.doesNotMatch(s.stdout, /shell/);
});
