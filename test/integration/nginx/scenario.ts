import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { writeFileAtomic } from '../../../src/core/fs/atomic';
import type { NginxRuntimeKind } from '../../../src/core/farm/model';
import { pkiPaths } from '../../../src/core/pki/paths';
import { farmLayout } from '../../../src/core/farm/layout';
import { revoke, readPkiIndex, currentCert } from '../../../src/core/pki';
import { farmWithPki } from '../../support/pki';
import { createNginxRuntime } from '../../../src/core/nginx/createRuntime';
import { ReloadOnSave } from '../../../src/core/nginx/reloadOnSave';
import type { NginxRuntime } from '../../../src/core/nginx/runtime';
import { FarmError } from '../../../src/core/errors';
import { clientIdentity, echoBootService, EchoService, eventually, httpGet, httpsGet, nginxTestFarm, NginxTestFarm } from '../../support/nginx';

/**
 * The same behaviour checked against each runtime with the real nginx (and real podman): mutual TLS, header
 * replacement, revocation, files over HTTP, save -> test -> reload, and the faults the issue lists.
 */
export function runtimeScenario(kind: NginxRuntimeKind, skipReason: () => string | undefined): void {
  let f: NginxTestFarm;
  let echo: EchoService;
  let rt: NginxRuntime;
  let reloader: ReloadOnSave;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let skip: string | undefined;

  before(async () => {
    skip = skipReason();
    if (skip) return;
    f = await nginxTestFarm(kind);
    echo = await echoBootService(f.layout, f.farm);
    cleanups.push(() => echo.close());
    rt = createNginxRuntime(f, kind);
    cleanups.push(() => rt.down());
    reloader = new ReloadOnSave(rt, f.layout);
    cleanups.push(() => reloader.dispose());
    await rt.up();
  });

  after(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(() => undefined);
  });

  const port = () => f.farm.server.httpsPort;
  const https = () => path.join(f.layout.nginx, 'conf.d', 'ipxe-https.conf');
  const dut1 = () => clientIdentity(f.layout, 'dut1');
  const guard = (t: { skip(m: string): void }) => { if (skip) { t.skip(skip); return true; } return false; };

  test(`${kind}: a farm client certificate gets through on every boot route, with nginx's X-SSL-Client-* headers`, async (t) => {
    if (guard(t)) return;
    const cert = new X509Certificate(fs.readFileSync(pkiPaths(f.layout).clientCert('dut1')));
    const rec = currentCert(await readPkiIndex(f.root), 'client', 'dut1')!;
    for (const route of ['/boot.ipxe', '/ipxe', '/ipxe/52:54:00:12:34:56']) {
      const a = await httpsGet(f.layout, port(), route, dut1());
      assert.equal(a.status, 200, `${route}: ${a.error ?? a.body}`);
      const h = JSON.parse(a.body).headers;
      assert.equal(JSON.parse(a.body).url, route);
      assert.equal(h['x-ssl-client-verify'], 'SUCCESS');
      assert.equal(h['x-ssl-client-serial'], rec.serial);
      assert.equal(h['x-ssl-client-fingerprint'], cert.fingerprint.replace(/:/g, '').toLowerCase());
      assert.match(h['x-ssl-client-s-dn'], /CN=dut1/);
    }
    const other = await httpsGet(f.layout, port(), '/admin', dut1());
    assert.equal(other.status, 404, 'only the boot routes reach the boot service');
  });

  test(`${kind}: X-SSL-Client-* headers a client sends itself are replaced by nginx's`, async (t) => {
    if (guard(t)) return;
    const forged = { 'X-SSL-Client-Verify': 'SUCCESS-forged', 'X-SSL-Client-Serial': '01', 'X-SSL-Client-Fingerprint': 'deadbeef', 'X-SSL-Client-S-DN': 'CN=admin' };
    const a = await httpsGet(f.layout, port(), '/boot.ipxe', dut1(), forged);
    assert.equal(a.status, 200);
    const h = JSON.parse(a.body).headers;
    assert.equal(h['x-ssl-client-verify'], 'SUCCESS');
    assert.notEqual(h['x-ssl-client-serial'], '01');
    assert.notEqual(h['x-ssl-client-fingerprint'], 'deadbeef');
    assert.match(h['x-ssl-client-s-dn'], /CN=dut1/);
    assert.doesNotMatch(a.body, /forged|deadbeef|CN=admin/);
  });

  test(`${kind}: no certificate and a foreign farm's certificate are refused and never reach the boot service`, async (t) => {
    if (guard(t)) return;
    const foreignRoot = await farmWithPki('foreign');
    const foreign = { cert: fs.readFileSync(pkiPaths(farmLayout(foreignRoot)).clientCert('dut1')), key: fs.readFileSync(pkiPaths(farmLayout(foreignRoot)).clientKey('dut1')) };
    const before = echo.seen.length;
    const none = await httpsGet(f.layout, port(), '/boot.ipxe', {});
    assert.equal(none.status, 400);
    // nginx answers with the farm's #!ipxe refusal (fixed words chosen from its verify result), not its HTML page.
    assert.match(none.body, /^#!ipxe\necho iPXE Farm refused this machine:\necho no client certificate was presented/);
    const alien = await httpsGet(f.layout, port(), '/boot.ipxe', foreign);
    assert.ok(alien.status === 400 || alien.error, `foreign cert answered ${alien.status}`);
    if (!alien.error) assert.match(alien.body, /not issued by this farm/i);
    assert.equal(echo.seen.length, before, 'the boot service saw none of them');
  });

  test(`${kind}: curl -m with the farm's CA and a client certificate, and without one`, async (t) => {
    if (guard(t)) return;
    const p = pkiPaths(f.layout);
    const base = ['-sS', '-m', '5', '--cacert', p.caCert, '--resolve', `localhost:${port()}:127.0.0.1`];
    const ok = await curl( [...base, '--cert', p.clientCert('dut1'), '--key', p.clientKey('dut1'), `https://localhost:${port()}/boot.ipxe`]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /"x-ssl-client-verify":"SUCCESS"/);
    const refused = await curl( [...base, '-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${port()}/boot.ipxe`]);
    assert.equal(refused.stdout, '400');
  });

  test(`${kind}: files/ is served over plain HTTP, at / and /files/`, async (t) => {
    if (guard(t)) return;
    fs.writeFileSync(path.join(f.layout.files, 'vmlinuz'), 'kernel-bytes');
    for (const p of ['/vmlinuz', '/files/vmlinuz']) {
      const a = await httpGet(f.farm.server.httpPort, p);
      assert.equal(a.status, 200, p);
      assert.equal(a.body, 'kernel-bytes');
    }
  });

  test(`${kind}: save -> tested and reloaded; a broken save is not reloaded (old config serves) and is placed on its line; fixing it clears it`, async (t) => {
    if (guard(t)) return;
    const original = fs.readFileSync(https(), 'utf8');
    const withGen = (gen: string, extra = '') => original.replace('    location / {\n', `    location = /gen {\n        return 200 "${gen}";\n    }\n${extra}    location / {\n`);
    await writeFileAtomic(https(), withGen('gen1'));
    const first = await reloader.saved(https())!;
    assert.equal(first.reloaded, true, JSON.stringify(first));
    assert.ok(await eventually(async () => (await httpsGet(f.layout, port(), '/gen', dut1())).body === 'gen1'), 'gen1 served');

    const broken = withGen('gen2', '    bogus_directive on;\n');
    const badLine = broken.split('\n').findIndex((l) => l.includes('bogus_directive')) + 1;
    await writeFileAtomic(https(), broken);
    const bad = await reloader.saved(https())!;
    assert.equal(bad.ok, false);
    assert.equal(bad.reloaded, false);
    assert.equal(bad.state, 'config-error');
    assert.deepEqual(bad.diagnostics.map((d) => [d.file, d.line, d.severity]), [[https(), badLine, 'error']]);
    assert.match(bad.diagnostics[0]!.message, /unknown directive "bogus_directive"/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await httpsGet(f.layout, port(), '/gen', dut1())).body, 'gen1', 'the old config keeps serving');

    // A message without file:line (an unknown variable) goes on the line that uses it.
    const varBroken = withGen('$no_such_var');
    await writeFileAtomic(https(), varBroken);
    const v = await reloader.saved(https())!;
    assert.equal(v.reloaded, false);
    assert.equal(v.diagnostics[0]!.file, https());
    assert.equal(v.diagnostics[0]!.line, varBroken.split('\n').findIndex((l) => l.includes('$no_such_var')) + 1);

    await writeFileAtomic(https(), withGen('gen2'));
    const fixed = await reloader.saved(https())!;
    assert.equal(fixed.reloaded, true);
    assert.deepEqual(fixed.diagnostics, []);
    assert.ok(await eventually(async () => (await httpsGet(f.layout, port(), '/gen', dut1())).body === 'gen2'), 'the fixed config is served');
    assert.equal((await rt.status()).state, 'running');
  });

  test(`${kind}: a revoked certificate is refused once the CRL is saved; the others still get through`, async (t) => {
    if (guard(t)) return;
    assert.equal((await httpsGet(f.layout, port(), '/boot.ipxe', clientIdentity(f.layout, 'dut2'))).status, 200);
    await revoke(f.root, 'dut2');
    const o = await reloader.saved(pkiPaths(f.layout).crlPem)!;
    assert.equal(o.reloaded, true, JSON.stringify(o));
    assert.ok(await eventually(async () => (await httpsGet(f.layout, port(), '/boot.ipxe', clientIdentity(f.layout, 'dut2'))).status === 400), 'dut2 refused');
    assert.equal((await httpsGet(f.layout, port(), '/boot.ipxe', dut1())).status, 200);
  });

  test(`${kind}: status, logs and a followed log show the requests`, async (t) => {
    if (guard(t)) return;
    const st = await rt.status();
    assert.equal(st.state, 'running');
    assert.ok(st.pid && st.pid > 0);
    let streamed = '';
    const follower = rt.follow((text) => { streamed += text; });
    try {
      await new Promise((r) => setTimeout(r, 500));
      await httpsGet(f.layout, port(), '/ipxe/followed', dut1());
      assert.ok(await eventually(async () => streamed.includes('/ipxe/followed'), 5000), `followed: ${streamed}`);
    } finally {
      follower.stop();
    }
    assert.match(await rt.logs(20), /GET \/ipxe\/followed" 200/);
  });

  test(`${kind}: a taken port is named with its process, and nothing is left behind`, async (t) => {
    if (guard(t)) return;
    const g = await nginxTestFarm(kind);
    const other = createNginxRuntime(g, kind);
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(g.farm.server.httpsPort, '127.0.0.1', r));
    try {
      await assert.rejects(other.up(), (e: FarmError) => {
        assert.equal(e.code, 'EADDRINUSE', e.message);
        assert.match(e.sentence, new RegExp(`${g.farm.server.httpsPort}.*taken by node \\(pid ${process.pid}\\)`));
        return true;
      });
      assert.equal((await other.status()).state, 'stopped');
    } finally {
      blocker.close();
      await other.down().catch(() => undefined);
    }
  });

  test(`${kind}: a broken config is never started; up says where the problem is`, async (t) => {
    if (guard(t)) return;
    const g = await nginxTestFarm(kind);
    const main = path.join(g.layout.nginx, 'nginx.conf');
    const text = fs.readFileSync(main, 'utf8').replace('events {', 'events {\n    worker_connections;');
    fs.writeFileSync(main, text);
    const line = text.split('\n').findIndex((l) => l.includes('worker_connections;')) + 1;
    const other = createNginxRuntime(g, kind);
    try {
      await assert.rejects(other.up(), (e: FarmError & { diagnostics?: Array<{ file: string; line?: number }> }) => {
        assert.equal(e.code, 'ENGINXCONF');
        assert.deepEqual(e.diagnostics?.map((d) => [d.file, d.line]), [[main, line]]);
        assert.match(e.sentence, /invalid number of arguments in "worker_connections"/);
        return true;
      });
      assert.equal((await other.status()).state, 'stopped');
    } finally {
      await other.down().catch(() => undefined);
    }
  });
}

/** curl without blocking the event loop: the boot-service double answers from this same process. */
function curl(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
