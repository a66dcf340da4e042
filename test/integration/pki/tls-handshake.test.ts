import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { farmLayout } from '../../../src/core/farm/layout';
import { currentCert, pkiPaths, readPkiIndex, revoke } from '../../../src/core/pki';
import { farmWithPki, openssl, opensslMissing } from '../../support/pki';
import { freePort } from '../../support/ports';
import { which } from '../../support/farm';

/** A second, unrelated CA and a client certificate from it: what a stranger would present. */
function foreignClient(dir: string): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const r1 = openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'f-ca.key', '-out', 'f-ca.crt', '-days', '2', '-subj', '/CN=foreign CA'], { cwd: dir });
  assert.equal(r1.status, 0, r1.out);
  const r2 = openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'f.key', '-out', 'f.csr', '-subj', '/CN=dut1'], { cwd: dir });
  assert.equal(r2.status, 0, r2.out);
  const r3 = openssl(['x509', '-req', '-in', 'f.csr', '-CA', 'f-ca.crt', '-CAkey', 'f-ca.key', '-CAcreateserial', '-out', 'f.crt', '-days', '2'], { cwd: dir });
  assert.equal(r3.status, 0, r3.out);
  return { cert: path.join(dir, 'f.crt'), key: path.join(dir, 'f.key') };
}

function handshake(port: number, ca: string, cert: string, key: string): Promise<{ ok: boolean; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key), maxVersion: 'TLSv1.2' });
    let body = '';
    s.setTimeout(5000, () => { s.destroy(); resolve({ ok: false, error: 'timeout' }); });
    s.on('data', (d) => { body += d.toString(); });
    s.on('end', () => resolve({ ok: body.length > 0, body }));
    s.on('error', (e) => resolve({ ok: false, error: e.message }));
  });
}

test('a Node TLS server with requestCert + the farm CA + CRL accepts a farm client, refuses a revoked or foreign one', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  await revoke(root, 'dut2');
  const foreign = foreignClient(path.join(root, 'foreign'));
  const server = tls.createServer({
    key: readFileSync(p.serverKey), cert: readFileSync(p.serverChain), ca: readFileSync(p.caCert), crl: readFileSync(p.crlPem),
    requestCert: true, rejectUnauthorized: true,
  }, (sock) => {
    const peer = sock.getPeerCertificate();
    sock.end(`${peer.serialNumber} ${peer.fingerprint.replace(/:/g, '').toLowerCase()}`);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  try {
    const ok = await handshake(port, p.caCert, p.clientCert('dut1'), p.clientKey('dut1'));
    assert.ok(ok.ok, ok.error);
    const rec = currentCert(await readPkiIndex(root), 'client', 'dut1')!;
    assert.equal(ok.body, `${rec.serial} ${rec.sha1}`);
    const revoked = await handshake(port, p.caCert, p.clientCert('dut2'), p.clientKey('dut2'));
    assert.equal(revoked.ok, false, 'revoked dut2 must be refused');
    const stranger = await handshake(port, p.caCert, foreign.cert, foreign.key);
    assert.equal(stranger.ok, false, 'a certificate from another CA must be refused');
  } finally {
    server.close();
  }
});

test('real nginx with ssl_verify_client on + ssl_crl: $ssl_client_serial and $ssl_client_fingerprint equal the index; revoked and foreign refused', async (t) => {
  const skip = opensslMissing() ?? (which('nginx') ? undefined : 'SKIPPED LOUDLY: nginx is not installed (apt-get install nginx)');
  if (skip) return t.skip(skip);
  if (!which('curl')) return t.skip('SKIPPED LOUDLY: curl is not installed (apt-get install curl)');
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  await revoke(root, 'dut2');
  const foreign = foreignClient(path.join(root, 'foreign'));
  const prefix = path.join(root, '.ipxe-farm', 'nginx-pki-test');
  mkdirSync(path.join(prefix, 'tmp'), { recursive: true });
  const port = await freePort();
  const conf = `
worker_processes 1;
error_log ${prefix}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body; proxy_temp_path ${prefix}/tmp/proxy; fastcgi_temp_path ${prefix}/tmp/fcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi; scgi_temp_path ${prefix}/tmp/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_protocols TLSv1.2;
    ssl_certificate ${p.serverChain};
    ssl_certificate_key ${p.serverKey};
    ssl_client_certificate ${p.caCert};
    ssl_verify_client on;
    ssl_crl ${p.crlPem};
    location / { return 200 "$ssl_client_verify|$ssl_client_serial|$ssl_client_fingerprint|$ssl_client_s_dn\\n"; }
  }
}
`;
  writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const nginx: ChildProcess = spawn('nginx', ['-p', prefix, '-c', 'nginx.conf', '-e', path.join(prefix, 'error.log'), '-g', `daemon off; pid ${prefix}/nginx.pid;`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr!.on('data', (d) => { stderr += d; });
  try {
    const curl = (cert: string, key: string) =>
      spawnSync('curl', ['-sS', '-m', '5', '--cacert', p.caCert, '--cert', cert, '--key', key, '-w', '\n%{http_code}', `https://127.0.0.1:${port}/`], { encoding: 'utf8' });
    let first = curl(p.clientCert('dut1'), p.clientKey('dut1'));
    for (let i = 0; i < 50 && first.status === 7; i++) { // connection refused: nginx still starting
      await new Promise((r) => setTimeout(r, 100));
      first = curl(p.clientCert('dut1'), p.clientKey('dut1'));
    }
    assert.equal(first.status, 0, `${first.stderr} ${stderr}`);
    const lines = first.stdout.trim().split('\n');
    const line = lines[0];
    const code = lines[lines.length - 1];
    assert.equal(code, '200');
    const [verify, serial, fingerprint, dn] = line!.split('|');
    const rec = currentCert(await readPkiIndex(root), 'client', 'dut1')!;
    assert.equal(verify, 'SUCCESS');
    assert.equal(serial, rec.serial, 'index serial == $ssl_client_serial');
    assert.equal(fingerprint, rec.sha1, 'index sha1 == $ssl_client_fingerprint');
    assert.equal(dn, rec.subject, 'index subject == $ssl_client_s_dn');
    const revoked = curl(p.clientCert('dut2'), p.clientKey('dut2'));
    assert.match(revoked.stdout, /\n400$/, 'nginx answers 400 to a revoked client certificate');
    assert.match(readFileSync(path.join(prefix, 'error.log'), 'utf8'), /certificate revoked/);
    const stranger = curl(foreign.cert, foreign.key);
    assert.match(stranger.stdout, /\n400$/, 'nginx answers 400 to a foreign client certificate');
  } finally {
    nginx.kill('SIGTERM');
    await new Promise((r) => { if (nginx.exitCode !== null) r(undefined); else nginx.once('exit', r); });
  }
});
