import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../../src/core/errors';
import { openFarm } from '../../../src/core/farm/handle';
import { initFarm } from '../../../src/core/farm/init';
import { updateFarm } from '../../../src/core/farm/load';
import { starterFarm } from '../../../src/core/farm/model';
import { checkName, nameProblem, profileOf } from '../../../src/core/farm/rules';
import { clearRunRecord, writeRunRecord } from '../../../src/core/farm/runRecord';

test('an opened farm decides its runtime once: the running nginx (run record) over the farm file, with paths and cache', async () => {
  const root = path.join(mkdtempSync(path.join(os.tmpdir(), 'handle-')), 'lab');
  await initFarm(root);
  await updateFarm(root, (raw) => { (raw.nginx as Record<string, unknown>).runtime = 'podman'; });
  // PATH with podman on it: the farm file's podman stands, nothing runs.
  const bin = mkdtempSync(path.join(os.tmpdir(), 'handle-bin-'));
  writeFileSync(path.join(bin, 'podman'), '#!/bin/sh\n', { mode: 0o755 });
  const env = { PATH: bin, HOME: '/home/x' };
  let h = await openFarm(root, { env });
  assert.deepEqual([h.runtime.kind, h.runtime.declared, h.runtime.running], ['podman', 'podman', undefined]);
  assert.equal(h.pki.caCert, path.join(root, 'pki', 'ca.crt'));
  assert.equal(h.cacheDir, '/home/x/.cache/ipxe-farm');
  // A local nginx started with `up --runtime local`: every later opening talks to it, whatever the file says.
  await writeRunRecord(h.layout, { kind: 'local', where: 'nginx (local)', startedAt: '2026-12-06T08:00:00.000Z' });
  h = await openFarm(root, { env });
  assert.equal(h.runtime.kind, 'local');
  assert.equal(h.runtime.declared, 'podman');
  assert.match(h.runtime.reason, /although ipxe-farm\.json now says podman/);
  await clearRunRecord(h.layout);
  assert.equal((await openFarm(root, { env })).runtime.kind, 'podman');
});

test('profileOf and checkName: one rule, one sentence per kind, always a usage error', () => {
  const farm = { ...starterFarm('lab'), defaultProfile: 'linux' };
  assert.equal(profileOf(farm, { profile: 'rescue' }), 'rescue');
  assert.equal(profileOf(farm, {}), 'linux');
  assert.equal(profileOf(farm, undefined), 'linux');
  assert.equal(profileOf({ defaultProfile: undefined }, {}), undefined);
  assert.doesNotThrow(() => checkName('client', 'dut1.lab'));
  for (const kind of ['client', 'profile', 'secret', 'farm', 'certificate'] as const) {
    assert.throws(() => checkName(kind, 'Bad Name'), (e: UsageError) => e instanceof UsageError && e.code === 'EUSAGE' && e.message === nameProblem(kind, 'Bad Name'));
  }
  assert.match(nameProblem('secret', '-x')!, /^The secret name "-x" is not allowed: use 1–63 characters/);
});
