import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { which } from '../../../src/core/process/light';
import { probePodman } from '../../../src/core/nginx/podmanProbe';

const cli = path.resolve(__dirname, '..', '..', '..', '..', 'out', 'cli.js');
const env = { ...process.env };
delete env.CONTAINERS_CONF;

// The real podman of this machine, as the user has it (no CONTAINERS_CONF): when it cannot start containers, doctor
// must say so and print a containers.conf; that file, handed to podman, must make the same probe pass.
test('doctor diagnoses a podman that cannot start containers and prints the containers.conf that fixes it', { timeout: 240_000 }, async (t) => {
  if (!which('podman') || !which('runc')) return t.skip('SKIPPED: podman or runc is not installed: the podman diagnosis was NOT tested');
  const plain = await probePodman({ env });
  if (plain.ok) return t.skip('SKIPPED: podman starts containers on this machine without help, so there is nothing to diagnose (the probe itself passed)');
  const r = spawnSync(process.execPath, [cli, 'doctor', '--json'], { encoding: 'utf8', env, timeout: 200_000 });
  const podman = JSON.parse(r.stdout).checks.find((c: { id: string }) => c.id === 'podman');
  assert.equal(podman.ok, false);
  assert.match(podman.detail, /cannot start containers/);
  const conf = /\n((?: {4}.*\n?)+)/.exec(podman.fix)?.[1]?.split('\n').map((l: string) => l.replace(/^ {4}/, '')).join('\n');
  assert.ok(conf && /runtime = "runc"/.test(conf), `doctor printed no containers.conf:\n${podman.fix}`);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'podman-doctor-')), 'containers.conf');
  writeFileSync(file, conf);
  const fixed = await probePodman({ env: { ...env, CONTAINERS_CONF: file } });
  assert.equal(fixed.ok, true, `with the printed containers.conf podman still fails: ${fixed.detail}`);
  const again = spawnSync(process.execPath, [cli, 'doctor', '--json'], { encoding: 'utf8', env: { ...env, CONTAINERS_CONF: file }, timeout: 200_000 });
  assert.equal(JSON.parse(again.stdout).checks.find((c: { id: string }) => c.id === 'podman').ok, true);
});
