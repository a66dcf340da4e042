import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Issue 14: `init --runtime podman|local` writes the farm's nginx runtime; `nginx up|test|reload` on a farm whose
// nginx config was never generated say what to run instead of passing on nginx's `open() … failed`.

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');
const ipxeFarm = (args: string[], cwd: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd });
const runtimeOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8')).nginx.runtime as string;

test('init --runtime writes the runtime into the new farm file; the default stays podman', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'init-rt-'));
  for (const [args, want] of [[['--runtime', 'local'], 'local'], [['--runtime', 'podman'], 'podman'], [[], 'podman']] as const) {
    const name = `f-${want}-${args.length}`;
    const r = ipxeFarm(['init', name, ...args], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(runtimeOf(path.join(dir, name)), want, args.join(' '));
    const get = ipxeFarm(['config', 'get', 'nginx.runtime'], path.join(dir, name));
    assert.equal(get.stdout.trim(), want, 'the farm reads what init wrote');
  }
});

test('init --runtime with anything else is a usage error (exit 2) in one sentence, and no farm is made', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'init-rt-'));
  const r = ipxeFarm(['init', 'bad', '--runtime', 'docker'], dir);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--runtime must be podman or local, not "docker"\./);
  assert.equal(existsSync(path.join(dir, 'bad', 'ipxe-farm.json')), false);
});

test('nginx up, test and reload on a farm without an nginx config say to run `ipxe-farm nginx init` first', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'init-rt-'));
  for (const runtime of ['local', 'podman']) {
    assert.equal(ipxeFarm(['init', runtime, '--runtime', runtime], dir).status, 0);
    const farm = path.join(dir, runtime);
    for (const verb of ['up', 'test', 'reload']) {
      const r = ipxeFarm(['nginx', verb], farm);
      assert.equal(r.status, 1, `${runtime} nginx ${verb}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /no nginx configuration yet .*nginx\.conf is missing.* Run `ipxe-farm nginx init` first/, `${runtime} nginx ${verb}`);
      assert.doesNotMatch(`${r.stdout}${r.stderr}`, /open\(\)/, `${runtime} nginx ${verb}`);
    }
    assert.equal(runtimeOf(farm), runtime, 'a refused command changes nothing');
  }
});
