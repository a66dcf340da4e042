import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The CLI side of secret files, through the built program: `profile set --secret-file`, `check`'s warning for a
// secret on the command line, and `script`/`explain` showing the file with its value masked and no token.
const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const SECRET = 'cli-S3cret-77/q+';

function farm(): (args: string[], input?: string) => ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cli-secret-')), 'lab');
  const run = (args: string[], input?: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir, input }) as ReturnType<typeof spawnSync> & { stdout: string; stderr: string };
  assert.equal(spawnSync(process.execPath, [cli, 'init', dir], { encoding: 'utf8' }).status, 0);
  writeFileSync(path.join(dir, 'files', 'vmlinuz'), 'k');
  assert.equal(run(['secret', 'set', 'minio'], SECRET).status, 0);
  return run;
}

test('profile set --secret-file PATH[:MODE]=TEMPLATE writes secretFiles; a bad path or mode exits 1 (bad form 2) and changes nothing', () => {
  const run = farm();
  assert.equal(run(['profile', 'add', 'b2c', '--kernel', 'vmlinuz', '--cmdline', 'console=ttyS0 b2c.minio={{secret.minio}}']).status, 0);
  const set = run(['profile', 'set', 'b2c', '--secret-file', '/run/secrets/minio.env=K={{secret.minio}}\nC={{client.name}}\n', '--secret-file', '/etc/x:0640=1']);
  assert.equal(set.status, 0, set.stderr);
  const file = path.join(JSON.parse(run(['show', '--json']).stdout).root, 'ipxe-farm.json');
  const before = readFileSync(file, 'utf8');
  assert.deepEqual(JSON.parse(before).profiles.b2c.secretFiles, [
    { path: '/run/secrets/minio.env', content: 'K={{secret.minio}}\nC={{client.name}}\n' }, { path: '/etc/x', content: '1', mode: '0640' },
  ]);
  const rel = run(['profile', 'set', 'b2c', '--secret-file', 'run/x=1']);
  assert.equal(rel.status, 1);
  assert.match(rel.stderr, /The secret file path "run\/x" is not absolute/);
  assert.equal(run(['profile', 'set', 'b2c', '--secret-file', '/run/x:0999=1']).status, 1);
  assert.equal(run(['profile', 'set', 'b2c', '--secret-file', '/run/x']).status, 2);
  assert.equal(readFileSync(file, 'utf8'), before, 'a refused change leaves the farm file as it was');
  assert.equal(run(['profile', 'set', 'b2c', '--no-secret-files']).status, 0);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).profiles.b2c.secretFiles, []);
});

test('check warns on a secret on the command line (exit 0); script and explain mask the file and show no token', () => {
  const run = farm();
  assert.equal(run(['profile', 'add', 'b2c', '--kernel', 'vmlinuz', '--cmdline', 'console=ttyS0 b2c.minio={{secret.minio}}',
    '--secret-file', '/run/secrets/minio.env=K={{secret.minio}}']).status, 0);
  assert.equal(run(['client', 'set', 'dut1', '--profile', 'b2c']).status, 0);
  const check = run(['check']);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /ipxe-farm\.json:\d+:\d+: warning: Profile "b2c" puts \{\{secret\.minio\}\} on the kernel command line, which is readable by every process on the machine through \/proc\/cmdline/);
  const json = JSON.parse(run(['check', '--json']).stdout);
  assert.equal(json.ok, true);
  assert.deepEqual(json.issues.map((i: { severity: string; pointer: string }) => [i.severity, i.pointer]), [['warning', '/profiles/b2c/cmdline']]);
  const script = run(['script', 'dut1']);
  assert.equal(script.status, 0, script.stderr);
  assert.match(script.stdout, /^initrd --name farm-secret0 https:\/\/10\.0\.2\.2:8443\/secret\/<one-time-token> \/run\/secrets\/minio\.env mode=600 mkdir=-1$/m);
  assert.match(script.stdout, /^# {3}K=••••••$/m);
  assert.ok(!script.stdout.includes(SECRET) && !script.stdout.includes('\u0000'));
  assert.match(script.stderr, /warning: .*\/proc\/cmdline/);
  const explain = run(['explain', 'dut1']);
  assert.match(explain.stdout, /secret file \/run\/secrets\/minio\.env \(mode 0600\), one-time URL bound to this certificate: "K=••••••"/);
  assert.ok(!explain.stdout.includes(SECRET));
  assert.ok(run(['script', 'dut1', '--reveal']).stdout.includes(`K=${SECRET}`));
  // Moved off the command line: no warning left.
  assert.equal(run(['profile', 'set', 'b2c', '--cmdline', 'console=ttyS0']).status, 0);
  assert.match(run(['check']).stdout, /The farm file is fine\./);
});
