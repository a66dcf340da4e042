import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { farmLayout } from '../../../src/core/farm/layout';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { issueClient, pkiPaths, revoke } from '../../../src/core/pki';
import { generateNginxConfig, LocalNginxRuntime } from '../../../src/core/nginx';
import { TLS_REFUSAL_REASONS } from '../../../src/core/nginx/generate';
import { ALLOWED_HEADLINE, ALLOWED_HINT } from '../../../src/core/boot/handler';
import { readBootEvents, readLastBoots } from '../../../src/core/boot/events';
import { run } from '../../../src/core/process/run';
import { setSecret } from '../../../src/core/secrets/store';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { parseIpxeScript } from '../../unit/boot/ipxeParse';
import { nginxMissing } from './mtlsNginx';
import { httpsGet, readTls, type ClientTls } from './httpsClient';
import { openFarm } from '../../../src/core/farm/handle';

// The farm's generated nginx config (real local nginx) in front of the real boot service: every refusal is a 4xx whose
// body echoes why, and /why.ipxe gives the same words as a 200 script, whoever refused (nginx at TLS, or the service).
const skip = nginxMissing();
const SECRET = 'why-test-secret-8812';
let root = '';
let port = 0;
let svc: BootService | undefined;
let runtime: LocalNginxRuntime | undefined;
let scratch = '';

const reasonFor = (verify: string) => TLS_REFUSAL_REASONS.find(([k]) => k === verify)![1];
const FOREIGN_REASON = TLS_REFUSAL_REASONS.find(([k]) => k.includes('local issuer'))![1];

function tlsOf(name: string): ClientTls {
  const p = pkiPaths(farmLayout(root));
  return readTls(p.clientCert(name), p.clientKey(name), p.caCert);
}

/** The echo lines and the exit status of a script, as iPXE would run them; throws if it holds any other command. */
function said(body: string): { echoes: string[]; exit: string } {
  const cmds = parseIpxeScript(body).commands;
  assert.deepEqual(cmds.map((c) => c.argv[0]), ['echo', 'echo', 'exit'], body);
  return { echoes: cmds.slice(0, 2).map((c) => c.argv.slice(1).join(' ')), exit: cmds[2]!.argv[1]! };
}

before(async () => {
  if (skip) return;
  root = await farmWithPki('whyfarm');
  fs.chmodSync(path.dirname(root), 0o711);
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'k');
  await setSecret(root, 's', SECRET);
  for (const c of ['dut-revoked', 'dut-gone']) await issueClient(await openFarm(root), c);
  await updateFarm(root, (raw) => {
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = { a: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 k={{secret.s}} h={{client.name}}', verify: false, extra: [] } };
    // dut-gone keeps a valid certificate but is no longer in the farm, which has no default profile.
    raw.clients = { dut1: { profile: 'a', macs: [], vars: {} }, 'dut-revoked': { profile: 'a', macs: [], vars: {} } };
    delete raw.defaultProfile;
  });
  await revoke(root, 'dut-revoked');
  svc = await startBootService({ root, log: () => undefined, reloadIntervalMs: 100 });
  await generateNginxConfig(await openFarm(root));
  const { farm, layout } = await loadFarm(root);
  port = farm.server.httpsPort;
  runtime = new LocalNginxRuntime(farm, layout);
  await runtime.up();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-why-'));
});

after(async () => {
  await runtime?.down().catch(() => undefined);
  await svc?.close().catch(() => undefined);
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** nginx logs a request after answering it: wait for the line rather than race it. */
async function accessLine(re: RegExp): Promise<RegExpExecArray> {
  for (const until = Date.now() + 5000; ;) {
    const m = re.exec(fs.readFileSync(runtime!.paths.accessLog, 'utf8'));
    if (m || Date.now() > until) { assert.ok(m, `nginx's access log has ${re}`); return m; }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** /boot.ipxe refused with `status` and the reason in its body; /why.ipxe 200 with the same words, exit 0. */
async function assertRefusedWithReason(tls: ClientTls, status: number, reason: string | RegExp): Promise<void> {
  const boot = await httpsGet(port, '/boot.ipxe', tls);
  assert.equal(boot.status, status, boot.body);
  const b = said(boot.body);
  assert.equal(b.exit, '1');
  assert.equal(b.echoes[0], 'iPXE Farm refused this machine:');
  if (typeof reason === 'string') assert.equal(b.echoes[1], reason); else assert.match(b.echoes[1]!, reason);
  const why = await httpsGet(port, '/why.ipxe', tls);
  assert.equal(why.status, 200, why.body);
  const w = said(why.body);
  assert.deepEqual(w.echoes, b.echoes, 'the same words on both paths');
  assert.equal(w.exit, '0', 'exit 0: iPXE would print a bogus "Error 0x000001" after a chained script that exits 1');
  for (const body of [boot.body, why.body]) assert.ok(!body.includes(SECRET) && !body.includes('kernel'));
}

test('a revoked certificate: nginx answers 400 with the revoked reason on /boot.ipxe, 200 with it on /why.ipxe', { skip }, async () => {
  await assertRefusedWithReason(tlsOf('dut-revoked'), 400, reasonFor('FAILED:certificate revoked'));
  await accessLine(/"GET \/why\.ipxe" 200 .*verify=FAILED:certificate revoked/);
  await accessLine(/"GET \/boot\.ipxe" 400 .*verify=FAILED:certificate revoked/);
  assert.equal((await readBootEvents(root)).filter((e) => e.client === 'dut-revoked').length, 0, 'the boot service never saw it');
});

test('a certificate from another CA, and a self-signed one: "not issued by this farm\'s CA"', { skip }, async () => {
  const ca = fs.readFileSync(pkiPaths(farmLayout(root)).caCert);
  const other = await farmWithPki('otherfarm');
  const op = pkiPaths(farmLayout(other));
  await assertRefusedWithReason({ ca, cert: fs.readFileSync(op.clientCert('dut1')), key: fs.readFileSync(op.clientKey('dut1')) }, 400, FOREIGN_REASON);
  const self = path.join(scratch, 'self');
  // A subject an attacker chose: nothing of it may reach the script (only the fixed texts of the map do).
  const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${self}.key`, '-out', `${self}.crt`, '-days', '2', '-subj', '/CN=x ${net0.ip} || shell'], { timeout: 30_000 });
  assert.equal(r.exitCode, 0, r.stderr);
  await assertRefusedWithReason({ ca, cert: fs.readFileSync(`${self}.crt`), key: fs.readFileSync(`${self}.key`) }, 400, FOREIGN_REASON);
});

test('an expired certificate from the farm CA: "the certificate has expired"', { skip }, async () => {
  const p = pkiPaths(farmLayout(root));
  const f = path.join(scratch, 'expired');
  // Signed by the farm CA with its end date already past (openssl in the test only; the product never runs it).
  let r = await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${f}.key`, '-out', `${f}.csr`, '-subj', '/CN=dut-old'], { timeout: 30_000 });
  assert.equal(r.exitCode, 0, r.stderr);
  r = await run('openssl', ['x509', '-req', '-in', `${f}.csr`, '-CA', p.caCert, '-CAkey', p.caKey, '-days', '-1', '-out', `${f}.crt`], { timeout: 30_000 });
  assert.equal(r.exitCode, 0, r.stderr);
  await assertRefusedWithReason({ ca: fs.readFileSync(p.caCert), cert: fs.readFileSync(`${f}.crt`), key: fs.readFileSync(`${f}.key`) }, 400, reasonFor('FAILED:certificate has expired'));
  await accessLine(/"GET \/why\.ipxe" 200 .*verify=FAILED:certificate has expired/);
});

test('no client certificate: "no client certificate was presented"', { skip }, async () => {
  await assertRefusedWithReason({ ca: fs.readFileSync(pkiPaths(farmLayout(root)).caCert) }, 400, reasonFor('NONE'));
});

test('the server\'s own certificate used as a client\'s: nginx\'s purpose check, in words', { skip }, async (t) => {
  const p = pkiPaths(farmLayout(root));
  const tls = { ca: fs.readFileSync(p.caCert), cert: fs.readFileSync(p.serverCert), key: fs.readFileSync(p.serverKey) };
  const boot = await httpsGet(port, '/boot.ipxe', tls);
  const verify = (await accessLine(/"GET \/boot\.ipxe" 400 .*verify=(FAILED:[^=]*purpose)/))[1];
  t.diagnostic(`server certificate as a client's: ${boot.status}, nginx verify=${verify}: ${boot.body.split('\n')[2]}`);
  assert.equal(verify, 'FAILED:unsuitable certificate purpose');
  await assertRefusedWithReason(tls, 400, TLS_REFUSAL_REASONS.find(([k]) => k.includes('certificate purpose'))![1]);
});

test('a valid certificate whose client left the farm: the service\'s own reason, 403 and 200', { skip }, async () => {
  await assertRefusedWithReason(tlsOf('dut-gone'), 403, /^client dut-gone is not in the farm \(its certificate is valid but it has no boot mapping\) and the farm has no default profile: ipxe-farm client set dut-gone --profile NAME$/);
  // The service writes its events after answering (batched per turn): wait for them rather than race the write.
  const seen = async () => (await readBootEvents(root)).filter((e) => e.client === 'dut-gone').map((e) => `${e.status} ${e.path}`);
  for (const until = Date.now() + 5000; (await seen()).length < 2 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await seen(), ['403 /boot.ipxe', '200 /why.ipxe'], JSON.stringify((await readBootEvents(root)).slice(-6)));
  assert.equal((await readLastBoots(root))['dut-gone']?.status, 403, 'asking why is not a boot');
});

test('an accepted client on /why.ipxe hears it is allowed, and gets no script and no secret', { skip }, async () => {
  const boot = await httpsGet(port, '/boot.ipxe', tlsOf('dut1'));
  assert.equal(boot.status, 200);
  assert.ok(boot.body.includes(`k=${SECRET}`));
  const why = await httpsGet(port, '/why.ipxe', tlsOf('dut1'));
  assert.equal(why.status, 200);
  assert.deepEqual(said(why.body), { echoes: [ALLOWED_HEADLINE, ALLOWED_HINT], exit: '0' });
  assert.ok(!why.body.includes(SECRET) && !why.body.includes('vmlinuz') && !why.body.includes('dut2'));
  assert.equal((await readLastBoots(root)).dut1?.status, 200);
  assert.equal((await readLastBoots(root)).dut1?.path, '/boot.ipxe');
});

test('curl sees the refusal as text/plain, not cached', { skip }, async () => {
  const p = pkiPaths(farmLayout(root));
  const r = await run('curl', ['-sS', '-m', '10', '-i', '--tlsv1.2', '--tls-max', '1.2', '--cacert', p.caCert, '--cert', p.clientCert('dut-revoked'), '--key', p.clientKey('dut-revoked'),
    '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/why.ipxe`]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^HTTP\/1\.1 200/);
  assert.match(r.stdout, /^Content-Type: text\/plain/mi);
  assert.match(r.stdout, /^Cache-Control: no-store/mi);
  assert.match(r.stdout, /\r\n\r\n#!ipxe\necho iPXE Farm refused this machine:\necho the certificate has been revoked/);
});

test('the secret is in no log this run wrote (nginx access and error logs, boot events)', { skip }, async () => {
  const files = [runtime!.paths.accessLog, runtime!.paths.errorLog, farmLayout(root).bootEvents];
  for (const f of files) assert.ok(!fs.readFileSync(f, 'utf8').includes(SECRET), f);
  assert.ok(fs.readFileSync(farmLayout(root).bootEvents, 'utf8').includes('"path":"/why.ipxe"'), 'the /why.ipxe answers are logged as events of their own');
});
