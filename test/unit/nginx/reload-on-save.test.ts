import { test } from 'node:test';
import assert from 'node:assert/strict';
import { farmLayout } from '../../../src/core/farm/layout';
import { pkiPaths } from '../../../src/core/pki/paths';
import { ReloadOnSave } from '../../../src/core/nginx/reloadOnSave';
import type { NginxDiagnostic } from '../../../src/core/nginx/diagnostics';
import type { NginxReloadResult, NginxRuntime } from '../../../src/core/nginx/runtime';

const layout = farmLayout('/srv/farm');
const conf = '/srv/farm/nginx/conf.d/ipxe-https.conf';

/** A fake runtime for the pure scheduling logic; the real nginx path is covered by the integration tests. */
function fakeRuntime(opts: { broken?: () => NginxDiagnostic[]; running?: boolean; ms?: number } = {}) {
  const calls = { reload: 0, hup: 0, concurrent: 0, maxConcurrent: 0 };
  const rt = {
    kind: 'local',
    async reload(): Promise<NginxReloadResult> {
      calls.reload++;
      calls.concurrent++;
      calls.maxConcurrent = Math.max(calls.maxConcurrent, calls.concurrent);
      await new Promise((r) => setTimeout(r, opts.ms ?? 5));
      calls.concurrent--;
      const diagnostics = opts.broken?.() ?? [];
      const ok = !diagnostics.some((d) => d.severity === 'error');
      const running = opts.running ?? true;
      if (ok && running) calls.hup++;
      return { ok, diagnostics, output: '', durationMs: 1, reloaded: ok && running, running };
    },
  } as unknown as NginxRuntime;
  return { rt, calls };
}

test('a burst of saves is one test+reload, and every save hears its outcome', async () => {
  const { rt, calls } = fakeRuntime();
  const r = new ReloadOnSave(rt, layout, { delayMs: 20 });
  const outs = await Promise.all([r.saved(conf), r.saved(conf), r.saved('/srv/farm/nginx/nginx.conf')]);
  assert.equal(calls.reload, 1);
  assert.equal(calls.hup, 1);
  for (const o of outs) assert.equal(o!.reloaded, true);
  assert.deepEqual(outs[0]!.files, [conf, '/srv/farm/nginx/nginx.conf']);
  assert.equal(outs[0]!.state, 'running');
});

test('a broken config is not reloaded and its diagnostics come back; fixing it clears them', async () => {
  let broken = true;
  const diag: NginxDiagnostic = { file: conf, line: 3, severity: 'error', message: 'unknown directive "x"' };
  const { rt, calls } = fakeRuntime({ broken: () => (broken ? [diag] : []) });
  const r = new ReloadOnSave(rt, layout, { delayMs: 1 });
  const bad = await r.saved(conf)!;
  assert.equal(bad.reloaded, false);
  assert.equal(bad.state, 'config-error');
  assert.deepEqual(bad.diagnostics, [diag]);
  assert.equal(calls.hup, 0);
  broken = false;
  const good = await r.saved(conf)!;
  assert.equal(good.reloaded, true);
  assert.deepEqual(good.diagnostics, []);
});

test('saves during a run are gathered into one more run, never run concurrently', async () => {
  const { rt, calls } = fakeRuntime({ ms: 40 });
  const seen: number[] = [];
  const r = new ReloadOnSave(rt, layout, { delayMs: 1, onOutcome: (o) => seen.push(o.files.length) });
  const first = r.saved(conf);
  await new Promise((res) => setTimeout(res, 10));
  const later = [r.saved(conf), r.saved('/srv/farm/nginx/conf.d/b.conf'), r.saved('/srv/farm/nginx/conf.d/c.conf')];
  await Promise.all([first, ...later]);
  await r.idle();
  assert.equal(calls.reload, 2);
  assert.equal(calls.maxConcurrent, 1);
  assert.deepEqual(seen, [1, 3]);
});

test('only nginx files and the CA/CRL/server cert trigger; editor temp files and other files do not', () => {
  const r = new ReloadOnSave(fakeRuntime().rt, layout);
  const pki = pkiPaths(layout);
  assert.equal(r.isRelevant(conf), true);
  assert.equal(r.isRelevant(pki.crlPem), true);
  assert.equal(r.isRelevant(pki.caCert), true);
  assert.equal(r.isRelevant(pki.serverChain), true);
  assert.equal(r.isRelevant('/srv/farm/nginx/.ipxe-https.conf.swp'), false);
  assert.equal(r.isRelevant('/srv/farm/nginx/conf.d/a.conf~'), false);
  assert.equal(r.isRelevant('/srv/farm/ipxe-farm.json'), false);
  assert.equal(r.isRelevant(pki.caKey), false);
  assert.equal(r.saved('/srv/farm/files/vmlinuz'), undefined);
});

test('a stopped nginx is tested but not reloaded; a runtime failure is one sentence, not a crash', async () => {
  const { rt } = fakeRuntime({ running: false });
  const o = await new ReloadOnSave(rt, layout, { delayMs: 1 }).saved(conf)!;
  assert.equal(o.ok, true);
  assert.equal(o.reloaded, false);
  assert.equal(o.state, 'stopped');
  const failing = { kind: 'podman', reload: async () => { throw new Error('podman is not installed'); } } as unknown as NginxRuntime;
  const f = await new ReloadOnSave(failing, layout, { delayMs: 1 }).saved(conf)!;
  assert.equal(f.ok, false);
  assert.match(f.error!, /podman is not installed/);
});
