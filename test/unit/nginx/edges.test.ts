import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseContainerState } from '../../../src/core/nginx/podmanInspect';
import { resolveRuntime } from '../../../src/core/farm/runtimeChoice';
import { assertPortsFree } from '../../../src/core/nginx/ports';
import { starterFarm } from '../../../src/core/farm/model';
import { FarmError } from '../../../src/core/errors';
import { assertListensOnFarmPorts, listenPorts } from '../../../src/core/nginx/listenCheck';
import { shQuote } from '../../../src/core/nginx/containerShell';
import { assertPkiReady } from '../../../src/core/nginx/pkiCheck';
import { farmLayout } from '../../../src/core/farm/layout';
import { pkiPaths } from '../../../src/core/pki/paths';

test('podman inspect: state parsed at the edge, a changed shape is one clear error', () => {
  assert.deepEqual(parseContainerState('[{"State":{"Status":"running","Running":true,"Pid":42,"ExitCode":0},"Config":{"Labels":{"ipxe-farm.root":"/f"}}}]'), { status: 'running', running: true, pid: 42, exitCode: 0, labels: { 'ipxe-farm.root': '/f' } });
  assert.deepEqual(parseContainerState('[{"State":{"Status":"exited","Running":false,"Pid":0,"ExitCode":1}}]'), { status: 'exited', running: false, pid: undefined, exitCode: 1, labels: {} });
  assert.throws(() => parseContainerState('[{"Status":"running"}]'), (e: FarmError) => /State\.Status/.test(e.message));
  assert.throws(() => parseContainerState('not json'), FarmError);
});

test('a farm set to podman runs the local nginx when podman is absent but nginx is there', () => {
  const farm = starterFarm('lab');
  // No nginx has run here (no run record): the farm file decides, with the fallback.
  const layout = farmLayout(mkdtempSync(path.join(os.tmpdir(), 'ngx-farm-')));
  const startableRuntime = (f: typeof farm, programs: object, envPath: string) => resolveRuntime(f, layout, programs, envPath).kind;
  assert.equal(startableRuntime(farm, {}, ''), 'podman', 'neither installed: keep the choice, the error will name podman');
  const onlyNginx = mkdtempSync(path.join(os.tmpdir(), 'ngx-path-'));
  writeFileSync(path.join(onlyNginx, 'nginx'), '#!/bin/sh\n', { mode: 0o755 });
  assert.equal(startableRuntime(farm, {}, onlyNginx), 'local');
  writeFileSync(path.join(onlyNginx, 'podman'), '#!/bin/sh\n', { mode: 0o755 });
  assert.equal(startableRuntime(farm, {}, onlyNginx), 'podman');
  farm.nginx.runtime = 'local';
  assert.equal(startableRuntime(farm, {}, ''), 'local');
});

test('a taken port is named with the process holding it', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    await assert.rejects(assertPortsFree([{ port, what: 'HTTPS' }], '127.0.0.1'), (e: FarmError) => {
      assert.equal(e.code, 'EADDRINUSE');
      assert.match(e.sentence, new RegExp(`Port ${port} \\(HTTPS\\) on 127\\.0\\.0\\.1 is already taken by node \\(pid ${process.pid}\\)`));
      assert.match(e.sentence, /server\.httpsPort/);
      return true;
    });
  } finally {
    srv.close();
  }
});

test('listen lines are read from the config; a config not on the farm\'s ports is refused with file:line', () => {
  const farm = starterFarm('lab');
  const sources = {
    '/f/nginx/conf.d/a.conf': 'server {\n    listen 127.0.0.1:8443 ssl;\n    # listen 9999;\n}\n',
    '/f/nginx/conf.d/b.conf': 'server {\n    listen 8081;\n}\n',
  };
  assert.deepEqual(listenPorts(sources).map((l) => [l.port, l.line]), [[8443, 2], [8081, 2]]);
  assert.throws(() => assertListensOnFarmPorts(farm, sources, '/f'), (e: FarmError) => {
    assert.equal(e.code, 'EPORTMISMATCH');
    assert.match(e.sentence, /does not listen on port 8080 \(server\.httpPort in ipxe-farm\.json\); it listens on 8443 \(nginx\/conf\.d\/a\.conf:2\), 8081 \(nginx\/conf\.d\/b\.conf:2\)/);
    return true;
  });
  sources['/f/nginx/conf.d/b.conf'] = 'server { listen [::]:8080; }\n';
  assert.doesNotThrow(() => assertListensOnFarmPorts(farm, { ...sources, x: '  listen 8080;' }, '/f'));
});

test('arguments for the container shell are quoted so that -g values stay one argument', () => {
  assert.equal(shQuote('/usr/sbin/nginx'), '/usr/sbin/nginx');
  assert.equal(shQuote('daemon off; pid /p/nginx.pid; user nginx;'), `'daemon off; pid /p/nginx.pid; user nginx;'`);
  assert.equal(shQuote(`it's`), `'it'\\''s'`);
});

test('a missing CA or server certificate the config needs names the step to run, not BIO_new_file()', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ngx-pki-'));
  const layout = farmLayout(root);
  const pki = pkiPaths(layout);
  const sources = { [path.join(root, 'nginx/conf.d/a.conf')]: `ssl_certificate "${pki.serverChain}";\nssl_client_certificate "${pki.caCert}";\n# ssl_crl "${pki.crlPem}";\n` };
  await assert.rejects(assertPkiReady(layout, sources), (e: FarmError) => e.code === 'ENOPKI' && /^pki\/ca\.crt does not exist yet.*Run `ipxe-farm ca init` first\.$/.test(e.sentence));
  mkdirSync(path.dirname(pki.serverChain), { recursive: true });
  writeFileSync(pki.caCert, 'x');
  await assert.rejects(assertPkiReady(layout, sources), (e: FarmError) => /pki\/issued\/server-chain\.crt does not exist yet.*`ipxe-farm issue server`/.test(e.sentence));
  writeFileSync(pki.serverChain, 'x');
  await assertPkiReady(layout, sources); // the CRL is only in a comment: not needed
});
