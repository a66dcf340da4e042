import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ipxeFarm = (args: string[], cwd: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd });

// console, qemu, boot, train and demo read --timeout, --until and --runtime by one rule each (src/cli/args.ts):
// the same value is refused the same way, with the same sentence, exit 2, by every command that takes it.
test('--timeout, --until and --runtime: one sentence and exit 2 from every command that takes them', () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cli-options-')), 'lab');
  assert.equal(ipxeFarm(['init', dir], os.tmpdir()).status, 0);
  const timeouts: string[][] = [['console', 'rack1'], ['qemu', 'dut1', '--headless'], ['boot', 'dut1'], ['train', 'dut1'], ['demo', path.join(dir, 'demo')]];
  for (const bad of ['soon', '0', '-5', '86401', 'Infinity']) {
    for (const cmd of timeouts) {
      const r = ipxeFarm([...cmd, `--timeout=${bad}`], dir);
      assert.equal(r.status, 2, `${cmd[0]} --timeout ${bad}: ${r.stderr}`);
      assert.equal(r.stderr, `ipxe-farm: --timeout ${bad} is not a number of seconds (more than 0, at most 86400). Give e.g. --timeout 120.\n`, `${cmd[0]} --timeout ${bad}`);
    }
  }
  for (const cmd of [['console', 'rack1'], ['qemu', 'dut1', '--headless'], ['boot', 'dut1'], ['train', 'dut1']]) {
    const r = ipxeFarm([...cmd, '--until', 'login:('], dir);
    assert.equal(r.status, 2, `${cmd[0]}: ${r.stderr}`);
    assert.match(r.stderr, /^ipxe-farm: --until "login:\(" is not a valid regular expression \(.+\)\. Quote it for the shell, e.g\. --until 'login:'\.\n$/, cmd[0]);
  }
  for (const cmd of [['demo', path.join(dir, 'demo')], ['nginx', 'status']]) {
    const r = ipxeFarm([...cmd, '--runtime', 'docker'], dir);
    assert.equal(r.status, 2, `${cmd[0]}: ${r.stderr}`);
    assert.equal(r.stderr, 'ipxe-farm: --runtime must be podman or local, not "docker".\n', cmd[0]);
  }
  // One word, not two: the command's own example as the fix.
  for (const [cmd, example] of [['console', 'ipxe-farm console rack1'], ['qemu', 'ipxe-farm qemu dut1'], ['boot', 'ipxe-farm boot dut1']] as const) {
    const r = ipxeFarm([cmd, 'a', 'b'], dir);
    assert.equal(r.status, 2, `${cmd}: ${r.stderr}`);
    assert.equal(r.stderr, `ipxe-farm: ${cmd} takes exactly one CLIENT. Example: ${example}\n`, cmd);
  }
});
