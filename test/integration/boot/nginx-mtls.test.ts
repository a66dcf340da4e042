import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { twoFreePorts } from '../../support/ports';
import { farmLayout } from '../../../src/core/farm/layout';
import { updateFarm } from '../../../src/core/farm/load';
import { issueClient, pkiPaths, readPkiIndex, revoke, writeCrl } from '../../../src/core/pki';
import { run } from '../../../src/core/process/run';
import { setSecret } from '../../../src/core/secrets/store';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { readLastBoots } from '../../../src/core/boot/events';
import { parseIpxeScript } from '../../unit/boot/ipxeParse';
import { nginxMissing, startMtlsNginx, MtlsNginx } from './mtlsNginx';
import { httpsGet, readTls } from './httpsClient';
import { openFarm } from '../../../src/core/farm/handle';

const SECRET1 = 'minio-dut1-Zq81mPx';
const SECRET2 = 'minio-dut2-Kw55rTy';
const skip = nginxMissing();
let root = '';
let svc: BootService | undefined;
let nginx: MtlsNginx | undefined;
let strict = 0;
let optional = 0;
const serviceLog: string[] = [];
let scratch = '';

before(async () => {
  if (skip) return;
  root = await farmWithPki();
  // nginx's workers (www-data when started as root) must be able to walk to the socket: open the temp parent for search.
  fs.chmodSync(path.dirname(root), 0o711);
  const layout = farmLayout(root);
  fs.writeFileSync(path.join(layout.files, 'vmlinuz'), 'k');
  await setSecret(root, 'minio1', SECRET1);
  await setSecret(root, 'minio2', SECRET2);
  await issueClient(await openFarm(root), 'dut3');
  await updateFarm(root, (raw) => {
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    raw.profiles = {
      ci: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 b2c.minio="bbz,{{secret.minio1}}" host={{client.name}}', verify: false, extra: ['echo hello {{client.name}}'] },
      other: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 b2c.minio="bbz,{{secret.minio2}}" host={{client.name}}', verify: false, extra: [] },
    };
    raw.clients = {
      dut1: { profile: 'ci', macs: ['52:54:00:12:34:56'], vars: {} },
      dut2: { profile: 'other', macs: ['52:54:00:12:34:57'], vars: {} },
      dut3: { profile: 'ci', macs: [], vars: {} },
    };
  });
  svc = await startBootService({ root, log: (l) => serviceLog.push(l), reloadIntervalMs: 100 });
  [strict, optional] = await twoFreePorts();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-boot-nginx-'));
  nginx = await startMtlsNginx({ root, strictPort: strict, optionalPort: optional, user: process.getuid?.() === 0 ? 'www-data' : undefined }, scratch);
});

after(async () => {
  await nginx?.stop().catch(() => undefined);
  await svc?.close().catch(() => undefined);
});

const tls = (name: string) => {
  const p = pkiPaths(farmLayout(root));
  return readTls(p.clientCert(name), p.clientKey(name), p.caCert);
};

test('through real nginx: each client certificate gets its own script with its own secret, parsed as iPXE expects', { skip }, async () => {
  const a = await httpsGet(strict, '/boot.ipxe', tls('dut1'));
  assert.equal(a.status, 200, a.body);
  assert.ok(a.body.includes(SECRET1) && !a.body.includes(SECRET2));
  const pa = parseIpxeScript(a.body);
  assert.ok(pa.shebang);
  assert.deepEqual(pa.commands.map((c) => c.argv[0]), ['kernel', 'echo', 'boot']);
  assert.deepEqual(pa.commands[1]!.argv, ['echo', 'hello', 'dut1']);
  assert.ok(pa.commands[0]!.argv.includes(`b2c.minio="bbz,${SECRET1}"`));

  const b = await httpsGet(strict, '/ipxe', tls('dut2'));
  assert.equal(b.status, 200, b.body);
  assert.ok(b.body.includes(SECRET2) && !b.body.includes(SECRET1) && b.body.includes('host=dut2'));

  const m = await httpsGet(strict, '/ipxe/52%3A54%3A00%3A12%3A34%3A56', tls('dut1'));
  assert.equal(m.status, 200);
  const wrong = await httpsGet(strict, '/ipxe/52:54:00:12:34:57', tls('dut1'));
  assert.equal(wrong.status, 403);
  assert.match(wrong.body, /^echo .*not one of client dut1's MACs/m);

  const last = await readLastBoots(root);
  assert.equal(last.dut1?.status, 403); // the MAC refusal was the newest event for dut1
  assert.equal(last.dut2?.profile, 'other');
});

test('openssl\'s curl agrees: the script arrives over mutual TLS 1.2 with the farm CA', { skip }, async () => {
  const p = pkiPaths(farmLayout(root));
  const r = await run('curl', ['-sS', '-m', '10', '--tlsv1.2', '--tls-max', '1.2', '--cacert', p.caCert, '--cert', p.clientCert('dut3'), '--key', p.clientKey('dut3'),
    '--resolve', `localhost:${strict}:127.0.0.1`, '-w', '\n%{http_code}', `https://localhost:${strict}/boot.ipxe`]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^#!ipxe\n/);
  assert.match(r.stdout, /host=dut3/);
  assert.match(r.stdout, /\n200$/);
});

test('headers a client sends under nginx\'s names are replaced, not trusted', { skip }, async () => {
  const idx = await readPkiIndex(root);
  const dut2 = idx.records.find((r) => r.kind === 'client' && r.name === 'dut2')!;
  const forged = { 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': dut2.sha1, 'X-SSL-Client-Serial': dut2.serial };
  const r = await httpsGet(strict, '/boot.ipxe', tls('dut1'), forged);
  assert.equal(r.status, 200);
  assert.ok(r.body.includes('host=dut1') && !r.body.includes(SECRET2));
  // Without a client certificate, on the optional port, the forged headers still do not help.
  const n = await httpsGet(optional, '/boot.ipxe', { ca: fs.readFileSync(pkiPaths(farmLayout(root)).caCert) }, forged);
  assert.equal(n.status, 403);
  assert.match(n.body, /no client certificate was presented/);
});

test('nginx refuses a machine without a certificate; the service refuses Verify FAILED with an echo script', { skip }, async () => {
  const ca = fs.readFileSync(pkiPaths(farmLayout(root)).caCert);
  const none = await httpsGet(strict, '/boot.ipxe', { ca });
  assert.equal(none.status, 400);
  // A certificate from another CA: nginx (optional_no_ca) passes FAILED:… and the service refuses it.
  const other = path.join(scratch, 'foreign');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${other}.key`, '-out', `${other}.crt`, '-days', '2', '-subj', '/CN=intruder'], { timeout: 30_000 });
  const f = await httpsGet(optional, '/boot.ipxe', { ca, cert: fs.readFileSync(`${other}.crt`), key: fs.readFileSync(`${other}.key`) });
  assert.equal(f.status, 403);
  assert.match(f.body, /could not verify the client certificate \(FAILED:/);
  assert.deepEqual(parseIpxeScript(f.body).commands.map((c) => c.argv[0]), ['echo', 'echo', 'exit']);
  const strictForeign = await httpsGet(strict, '/boot.ipxe', { ca, cert: fs.readFileSync(`${other}.crt`), key: fs.readFileSync(`${other}.key`) });
  assert.equal(strictForeign.status, 400);
});

test('a revoked certificate is refused: by nginx with the reloaded CRL, and by the service from the PKI index', { skip }, async () => {
  const before = await httpsGet(strict, '/boot.ipxe', tls('dut3'));
  assert.equal(before.status, 200);
  await revoke(root, 'dut3');
  await writeCrl(root).catch(() => undefined);
  await svc!.reloader.check();
  await nginx!.reload();
  const nginxRefusal = await httpsGet(strict, '/boot.ipxe', tls('dut3'));
  assert.equal(nginxRefusal.status, 400);
  // The optional port has no CRL: nginx passes Verify SUCCESS, and the service refuses from the PKI index on its own.
  const svcRefusal = await httpsGet(optional, '/boot.ipxe', tls('dut3'));
  assert.equal(svcRefusal.status, 403);
  assert.match(svcRefusal.body, /^echo .*of client dut3 was revoked/m);
  assert.deepEqual(parseIpxeScript(svcRefusal.body).commands.map((c) => c.argv[0]), ['echo', 'echo', 'exit']);
  // Others still boot.
  assert.equal((await httpsGet(strict, '/boot.ipxe', tls('dut1'))).status, 200);
});

test('unknown paths, traversal and over-long URLs never reach a script', { skip }, async () => {
  // nginx itself answers 400 to an encoded traversal above the root; the rest reach the service's router.
  for (const [url, status] of [['/secrets.json', [404]], ['/ipxe/../secrets.json', [404]], ['/ipxe/..%2f..%2fsecrets.json', [400, 404]], [`/ipxe/${'b'.repeat(1000)}`, [414]]] as const) {
    const r = await httpsGet(strict, url, tls('dut1'));
    assert.ok((status as readonly number[]).includes(r.status), `${url}: ${r.status}`);
    assert.ok(!r.body.includes(SECRET1), url);
  }
});

test('no secret appears in any log the run produced (nginx access/error, service log, boot events)', { skip }, async () => {
  const files = [nginx!.accessLog, nginx!.errorLog, farmLayout(root).bootEvents];
  const texts = files.map((f) => fs.readFileSync(f, 'utf8'));
  texts.push(serviceLog.join('\n'));
  assert.ok(texts[0]!.length > 0 && texts[2]!.length > 0, 'logs were written');
  for (const s of [SECRET1, SECRET2]) for (const [i, t] of texts.entries()) assert.ok(!t.includes(s), `secret found in ${files[i] ?? 'service log'}`);
});
