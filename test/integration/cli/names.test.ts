import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ipxeFarm = (args: string[], cwd: string, input?: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, input });

test('a bad client name is the same usage error (exit 2, one sentence) from `client set` and `issue client`; nothing is written', () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cli-names-')), 'lab');
  assert.equal(ipxeFarm(['init', dir], os.tmpdir()).status, 0);
  const before = readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8');
  const sentence = 'ipxe-farm: The client name "Bad_Name" is not allowed: use 1–63 characters: lowercase letters, digits, dot, dash or underscore, starting with a letter or digit. Choose another client name (it becomes the certificate CN, file names and URL parts).\n';
  for (const args of [['client', 'set', 'Bad_Name'], ['issue', 'client', 'Bad_Name'], ['issue', 'client', 'ok1', 'Bad_Name']]) {
    const r = ipxeFarm(args, dir);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, sentence, args.join(' '));
  }
  // The other kinds: the same rule, their own sentence, exit 2.
  const profile = ipxeFarm(['profile', 'add', 'Bad_Name', '--kernel', 'https://example.org/vmlinuz'], dir);
  assert.equal(profile.status, 2, profile.stderr);
  assert.match(profile.stderr, /^ipxe-farm: The profile name "Bad_Name" is not allowed: .* Choose another profile name\.\n$/);
  const secret = ipxeFarm(['secret', 'set', 'Bad_Name'], dir, 'value');
  assert.equal(secret.status, 2, secret.stderr);
  assert.match(secret.stderr, /^ipxe-farm: The secret name "Bad_Name" is not allowed: .* Choose another secret name\.\n$/);
  const farm = ipxeFarm(['init', path.join(path.dirname(dir), 'other'), '--name', 'Bad_Name'], os.tmpdir());
  assert.equal(farm.status, 2, farm.stderr);
  assert.match(farm.stderr, /^ipxe-farm: The farm name "Bad_Name" is not allowed: .* Pass --name NAME\.\n$/);
  assert.equal(readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8'), before, 'the farm file is untouched');
});
