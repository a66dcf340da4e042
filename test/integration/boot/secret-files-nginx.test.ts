import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { issueClients, pkiPaths, revoke } from '../../../src/core/pki';
import { generateNginxConfig, LocalNginxRuntime } from '../../../src/core/nginx';
import { readBootEvents } from '../../../src/core/boot/events';
import { run } from '../../../src/core/process/run';
import { setSecret } from '../../../src/core/secrets/store';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { SecretFileService } from '../../../src/core/boot/secretFiles';
import { nginxMissing } from './mtlsNginx';
import { httpsGet, readTls, type ClientTls } from './httpsClient';
import { openFarm } from '../../../src/core/farm/handle';

// Secret files through the farm's generated nginx (real local nginx, mutual TLS) and the real boot service, asked
// with curl like a board would: each one-time URL works once, for the certificate that fetched the script, within the
// TTL, and not after a revocation; nginx's logs, the service's log and the boot events never hold a token or a value.
const skip = nginxMissing() ?? (fs.existsSync('/usr/bin/curl') ? undefined : 'SKIPPED LOUDLY: curl is not installed');
const MINIO = 'minio-SECRET-9f3b2c/q+Zx==';
const CLIENTS = ['dut1', 'dut2', 'dut3', 'dut4'];
let root = '';
let port = 0;
let svc: BootService | undefined;
let runtime: LocalNginxRuntime | undefined;
const secretFiles = new SecretFileService();
const serviceLog: string[] = [];
const seenTokens = new Set<string>();

const tokensOf = (script: string) => [...script.matchAll(/\/secret\/([A-Za-z0-9_-]{43}) /g)].map((m) => m[1]!);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function tlsOf(name: string): ClientTls {
  const p = pkiPaths(farmLayout(root));
  return readTls(p.clientCert(name), p.clientKey(name), p.caCert);
}

/** One GET with curl and a client certificate, as a board would: status and body. */
async function curl(client: string, urlPath: string): Promise<{ status: number; body: string }> {
  const p = pkiPaths(farmLayout(root));
  const r = await run('curl', ['-sS', '--cacert', p.caCert, '--cert', p.clientCert(client), '--key', p.clientKey(client),
    '--tlsv1.2', '-o', '-', '-w', '\n%{http_code}', `https://localhost:${port}${urlPath}`], { timeout: 30_000 });
  assert.equal(r.exitCode, 0, r.stderr);
  const i = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
}

async function script(client: string): Promise<string[]> {
  const s = await curl(client, '/boot.ipxe');
  assert.equal(s.status, 200, s.body);
  const t = tokensOf(s.body);
  assert.equal(t.length, 1, s.body);
  for (const x of t) seenTokens.add(x);
  return t;
}

async function waitFor(what: string, ok: () => Promise<boolean> | boolean): Promise<void> {
  for (const until = Date.now() + 10_000; !(await ok());) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  if (skip) return;
  root = await farmWithPki('secretfarm');
  await issueClients(await openFarm(root), ['dut3', 'dut4']);
  fs.chmodSync(path.dirname(root), 0o711);
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'k');
  await setSecret(root, 'minio', MINIO);
  await updateFarm(root, (raw) => {
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = {
      b2c: {
        kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 h={{client.name}}', verify: false, extra: [],
        secretFiles: [{ path: '/run/secrets/minio.env', content: 'MINIO_SECRET_KEY={{secret.minio}}\nFOR={{client.name}}\n' }],
      },
    };
    raw.clients = Object.fromEntries(CLIENTS.map((c) => [c, { profile: 'b2c', macs: [], vars: {} }]));
  });
  svc = await startBootService({ root, log: (l) => serviceLog.push(l), reloadIntervalMs: 100, secretFiles });
  await generateNginxConfig(await openFarm(root));
  const { farm, layout } = await loadFarm(root);
  port = farm.server.httpsPort;
  runtime = new LocalNginxRuntime(farm, layout);
  await runtime.up();
});

after(async () => {
  await runtime?.down().catch(() => undefined);
  await svc?.close().catch(() => undefined);
});

test('curl: the file once to its certificate; a replay is refused and /why.ipxe says why', { skip }, async () => {
  const [t] = await script('dut1');
  const got = await curl('dut1', `/secret/${t}`);
  assert.equal(got.status, 200);
  assert.equal(got.body, `MINIO_SECRET_KEY=${MINIO}\nFOR=dut1\n`);
  const again = await curl('dut1', `/secret/${t}`);
  assert.equal(again.status, 410, again.body);
  assert.ok(!again.body.includes(MINIO));
  const why = await curl('dut1', '/why.ipxe');
  assert.equal(why.status, 200);
  assert.match(why.body, /echo iPXE Farm refused a secret file of this machine:\necho this secret file's one-time URL was already used/);
});

test('curl: another client\'s certificate with a valid token is refused, and the owner still gets its file', { skip }, async () => {
  const [t] = await script('dut1');
  const stolen = await curl('dut2', `/secret/${t}`);
  assert.equal(stolen.status, 403, stolen.body);
  assert.ok(!stolen.body.includes(MINIO));
  assert.equal((await curl('dut1', `/secret/${t}`)).status, 200);
});

test('curl: after the TTL the token is refused', { skip }, async () => {
  await updateFarm(root, (raw) => { raw.boot = { secretTtl: 1 }; });
  await waitFor('the TTL of 1 s to load', () => svc!.reloader.state.farm.boot?.secretTtl === 1);
  try {
    const [t] = await script('dut1');
    await new Promise((r) => setTimeout(r, 2200));
    const late = await curl('dut1', `/secret/${t}`);
    assert.equal(late.status, 410, late.body);
    assert.match((await curl('dut1', '/why.ipxe')).body, /expired before it was fetched/);
  } finally {
    await updateFarm(root, (raw) => { delete raw.boot; });
    await waitFor('the default TTL to load', () => svc!.reloader.state.farm.boot === undefined);
  }
});

test('curl: a client revoked between its script and its file gets no file', { skip }, async () => {
  const [t] = await script('dut4');
  await revoke(root, 'dut4');
  await waitFor('the revocation to load', () => svc!.reloader.state.certs.ofClient('dut4').every((c) => c.status === 'revoked'));
  const r = await curl('dut4', `/secret/${t}`);
  assert.equal(r.status, 403, r.body);
  assert.match((await curl('dut4', '/why.ipxe')).body, /was revoked/);
  // Once nginx has the new CRL it refuses the handshake itself (400): refused either way.
  await runtime!.reload();
  await waitFor('nginx to refuse dut4 at the handshake', async () => (await curl('dut4', `/secret/${t}`)).status === 400);
});

test('500 concurrent boots: each gets its own file once, 0 errors, no token served twice', { skip, timeout: 10 * 60_000 }, async (t) => {
  const live = ['dut1', 'dut2', 'dut3'];
  const tls = Object.fromEntries(live.map((c) => [c, tlsOf(c)]));
  const servedBefore = secretFiles.tokens.served;
  const started = Date.now();
  const boots = await Promise.all(Array.from({ length: 500 }, async (_, i) => {
    const client = live[i % live.length]!;
    try {
      const s = await httpsGet(port, '/boot.ipxe', tls[client]!, {}, 180_000);
      const [token] = tokensOf(s.body);
      if (s.status !== 200 || !token) return { client, error: `script ${s.status}` };
      const f = await httpsGet(port, `/secret/${token}`, tls[client]!, {}, 180_000);
      if (f.status !== 200) return { client, token, error: `file ${f.status}` };
      return { client, token, body: f.body };
    } catch (err) {
      return { client, error: (err as Error).message };
    }
  }));
  t.diagnostic(`500 boots (script + secret file, new TLS connection each) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const errors = boots.filter((b) => b.error);
  assert.equal(errors.length, 0, JSON.stringify(errors.slice(0, 5)));
  for (const b of boots) assert.equal(b.body, `MINIO_SECRET_KEY=${MINIO}\nFOR=${b.client}\n`);
  const tokens = boots.map((b) => b.token!);
  assert.equal(new Set(tokens).size, 500, 'a token per boot');
  assert.equal(secretFiles.tokens.served - servedBefore, 500, 'served exactly once each');
  for (const x of tokens) seenTokens.add(x);
  // Every one of them again: none is served a second time.
  const replays = await Promise.all(tokens.slice(0, 100).map((x, i) => httpsGet(port, `/secret/${x}`, tls[live[i % live.length]!]!, {}, 180_000)));
  assert.deepEqual([...new Set(replays.map((r) => r.status))], [410]);
  assert.equal(secretFiles.tokens.served - servedBefore, 500);
});

test('no token and no secret value in nginx\'s access and error logs, the service log or the boot events', { skip }, async () => {
  const access = fs.readFileSync(runtime!.paths.accessLog, 'utf8');
  const error = fs.existsSync(runtime!.paths.errorLog) ? fs.readFileSync(runtime!.paths.errorLog, 'utf8') : '';
  const events = JSON.stringify(await readBootEvents(root));
  const all = [access, error, events, serviceLog.join('\n')];
  assert.ok(seenTokens.size > 500);
  const names = ['nginx access log', 'nginx error log', 'boot events', 'service log'];
  for (const tok of seenTokens) all.forEach((text, i) => assert.ok(!text.includes(tok), `a token is in the ${names[i]}: ${text.split('\n').find((l) => l.includes(tok))}`));
  for (const text of all) assert.ok(!text.includes(MINIO) && !text.includes(sha256(MINIO)), 'a secret was logged');
  assert.match(access, /"GET \/secret\/\.\.\." 200 /);
  assert.match(access, /"GET \/secret\/\.\.\." 410 /);
  assert.match(access, /"GET \/secret\/\.\.\." 403 /);
  const served = (await readBootEvents(root)).filter((e) => e.reason === 'secret file served');
  assert.equal(served.length, 502, "one event per file served (1 + 1 + 500)");
  assert.ok(served.every((e) => e.secretFile === '/run/secrets/minio.env' && e.path === '/secret/…' && e.client));
});
