import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initFarm } from '../../../src/core/farm/init';
import { farmLayout } from '../../../src/core/farm/layout';
import { starterFarm } from '../../../src/core/farm/model';
import { generateNginxConfig, isLoopbackAddress, nginxPath, renderNginxConfig, IPXE_SSL_CIPHERS, TLS_REFUSAL_DEFAULT, TLS_REFUSAL_REASONS } from '../../../src/core/nginx/generate';
import { isEchoSafe } from '../../../src/core/ipxe/scriptLine';
import { parseIpxeScript } from '../boot/ipxeParse';
import { pkiPaths } from '../../../src/core/pki/paths';
import { FarmError } from '../../../src/core/errors';
import { openFarm } from '../../../src/core/farm/handle';

const layout = farmLayout('/srv/farm');
const pki = pkiPaths(layout);

function render(mutate: (f: ReturnType<typeof starterFarm>) => void = () => undefined) {
  const farm = starterFarm('lab');
  mutate(farm);
  const files = renderNginxConfig(farm, layout, farm.nginx.runtime);
  return { files, all: files.map((f) => f.text).join('\n'), https: files.find((f) => f.file.endsWith('ipxe-https.conf'))!.text };
}

test('the HTTPS server demands a farm client certificate, checks the CRL and sends the full chain', () => {
  const { https } = render();
  assert.match(https, new RegExp(`ssl_certificate\\s+"${pki.serverChain}";`));
  assert.match(https, new RegExp(`ssl_certificate_key\\s+"${pki.serverKey}";`));
  assert.match(https, new RegExp(`ssl_client_certificate\\s+"${pki.caCert}";`));
  assert.match(https, /^\s*ssl_verify_client on;/m);
  assert.match(https, new RegExp(`ssl_crl\\s+"${pki.crlPem}";`));
  assert.match(https, /^\s*ssl_protocols TLSv1\.2;/m);
  assert.ok(https.includes(`ssl_ciphers ${IPXE_SSL_CIPHERS};`));
  assert.match(https, /^\s*listen (127\.0\.0\.1:)?8443 ssl;/m);
});

test('every TLS line has a comment above it saying why', () => {
  const lines = render().https.split('\n');
  for (const directive of ['ssl_certificate ', 'ssl_protocols', 'ssl_client_certificate', 'ssl_crl']) {
    const i = lines.findIndex((l) => l.trim().startsWith(directive));
    assert.ok(i > 0 && lines[i - 1]!.trim().startsWith('#'), `${directive} has a comment`);
  }
});

test('the boot routes go to the boot socket with the X-SSL-Client-* headers set by nginx', () => {
  const { https } = render();
  for (const route of ['= /boot.ipxe', '= /ipxe', '/ipxe/', '= /why.ipxe']) {
    assert.ok(https.includes(`location ${route} {\n        proxy_pass http://ipxefarm_boot;`), route);
  }
  assert.ok(https.includes(`upstream ipxefarm_boot {\n    server "unix:${layout.bootSocket}";\n    keepalive 256;`));
  assert.match(https, /proxy_http_version 1\.1;\n    proxy_set_header Connection "";/);
  for (const [h, v] of [['Verify', 'ssl_client_verify'], ['Serial', 'ssl_client_serial'], ['Fingerprint', 'ssl_client_fingerprint'], ['S-DN', 'ssl_client_s_dn']]) {
    assert.match(https, new RegExp(`proxy_set_header X-SSL-Client-${h} \\$${v};`));
  }
  assert.match(https, /location \/ {\s+return 404;/);
});

test('no user/pid/daemon line (runtimes pass them), files/ over plain HTTP', () => {
  const { all, files } = render();
  assert.doesNotMatch(all, /^\s*(user|pid|daemon)\s/m);
  const http = files.find((f) => f.file.endsWith('files-http.conf'))!.text;
  assert.match(http, /^\s*listen 8080;/m);
  assert.ok(http.includes(`root "${layout.files}/";`));
});

test('a local nginx for a loopback farm listens on 127.0.0.1 only; podman publishes instead', () => {
  const local = render((f) => { f.nginx.runtime = 'local'; f.server.address = '127.0.0.1'; });
  assert.match(local.https, /listen 127\.0\.0\.1:8443 ssl;/);
  const lan = render((f) => { f.nginx.runtime = 'local'; f.server.address = '192.168.1.5'; });
  assert.match(lan.https, /listen 8443 ssl;/);
  assert.equal(isLoopbackAddress('10.0.2.2'), true);
  assert.equal(isLoopbackAddress('127.1.2.3'), true);
  assert.equal(isLoopbackAddress('10.0.2.15'), false);
  assert.equal(isLoopbackAddress('10.0.2.100', false), true, 'a guestfwd-only address: nginx stays on loopback');
  assert.equal(isLoopbackAddress('10.0.2.100', true), false, 'a host with a real 10.0.2.0/24 interface serves it on the LAN');
  assert.equal(isLoopbackAddress('192.168.1.10', false), false);
});

test('paths that could break out of an nginx string are refused', () => {
  assert.equal(nginxPath('/a b/c'), '"/a b/c"');
  for (const bad of ['/x"y', '/x$y', '/x;y', '/x\ny', '/x{y']) assert.throws(() => nginxPath(bad), FarmError, bad);
});

test('generate writes once, refuses to overwrite the user\'s files, and --force replaces them', async () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'ngx-gen-')), 'lab');
  await initFarm(dir);
  const written = await generateNginxConfig(await openFarm(dir));
  assert.equal(written.length, 3);
  const main = written.find((f) => f.endsWith('nginx.conf'))!;
  writeFileSync(main, '# mine\n');
  await assert.rejects(generateNginxConfig(await openFarm(dir)), (e: FarmError) => e.code === 'EEXIST' && /--force/.test(e.sentence));
  assert.equal(readFileSync(main, 'utf8'), '# mine\n');
  await generateNginxConfig(await openFarm(dir), { force: true });
  assert.match(readFileSync(main, 'utf8'), /include conf\.d\/\*\.conf;/);
});

test('TLS refusals: a map of $ssl_client_verify to fixed words, error_page 495 496 to a location that answers /why.ipxe 200 and the rest 400', () => {
  const { https } = render();
  const map = /^map \$ssl_client_verify \$ipxefarm_tls_refusal \{\n([\s\S]*?)\n\}$/m.exec(https);
  assert.ok(map, 'the map is at http level, before the server');
  assert.ok(https.indexOf('map $ssl_client_verify') < https.indexOf('server {'));
  // Every entry: a key (NONE, default, or a quoted string/regex), then one quoted fixed text.
  const entries: [string, string][] = [...map[1]!.matchAll(/^\s+(NONE|default|"[^"]+")\s+"([^"]*)";$/gm)].map((m) => [m[1]!.replace(/^"|"$/g, ''), m[2]!]);
  assert.deepEqual(entries, [...TLS_REFUSAL_REASONS, ['default', TLS_REFUSAL_DEFAULT]].map(([k, v]) => [k, v]));
  assert.ok(entries.some(([k]) => k === 'FAILED:certificate revoked'));
  assert.ok(entries.some(([k]) => k.startsWith('~') && k.includes('unable to get local issuer certificate') && /self.signed/.test(k)));
  assert.ok(entries.some(([k]) => k === 'FAILED:certificate has expired'));
  for (const [, text] of entries) {
    assert.ok(isEchoSafe(text), `"${text}" is echoed by iPXE as written`);
    assert.doesNotMatch(text, /[$"\\]/, 'nothing nginx would expand or unquote');
  }

  assert.match(https, /^    error_page 495 496 = @tls_refused;$/m);
  const loc = /^    location @tls_refused \{\n([\s\S]*?)\n    \}$/m.exec(https)?.[1];
  assert.ok(loc, 'the named location');
  assert.match(loc, /default_type text\/plain;/);
  const why = /if \(\$uri = \/why\.ipxe\) \{\s+return 200 "([^"]+)";\s+\}/.exec(loc);
  const rest = /\n        return 400 "([^"]+)";$/.exec(loc);
  assert.ok(why && rest, loc);
  // The bodies, with nginx's own "\n" escapes turned into lines, are scripts that only echo and exit.
  const script = (body: string) => parseIpxeScript(body.replace(/\\n/g, '\n'));
  assert.deepEqual(script(why[1]!).commands.map((c) => c.argv[0]), ['echo', 'echo', 'exit']);
  assert.deepEqual(script(why[1]!).commands[1]!.argv, ['echo', '$ipxefarm_tls_refusal'], 'only the mapped words, never $ssl_client_verify');
  assert.deepEqual(script(why[1]!).commands[2]!.argv, ['exit', '0']);
  assert.deepEqual(script(rest[1]!).commands[2]!.argv, ['exit', '1']);
  assert.doesNotMatch(loc, /\$ssl_/);
});

test('secret files: /secret/ goes to the boot service inside the mutual-TLS server, and no log line carries the token', () => {
  const { all, https } = render();
  const loc = /location \^~ \/secret\/ \{([^}]*)\}/.exec(https);
  assert.ok(loc, https);
  assert.match(loc[1]!, /proxy_pass http:\/\/ipxefarm_boot;/);
  assert.match(loc[1]!, /error_log logs\/error\.log crit;/);
  // The access log format logs a mapped URI: /secret/... for every secret URL, the URI itself otherwise.
  assert.match(all, /map \$uri \$ipxefarm_logged_uri \{\s*~\^\/secret\/ \/secret\/\.\.\.;\s*default\s+\$uri;\s*\}/);
  const format = /log_format farm ([^;]*);/.exec(all)![1]!;
  assert.ok(format.includes('$ipxefarm_logged_uri') && !/\$uri\b|\$request\b|\$request_uri/.test(format), format);
  // Only one server block speaks TLS, and the secret route is in it (never on the plain-HTTP file server).
  const http = renderNginxConfig(starterFarm('lab'), layout, 'podman').find((f) => f.file.endsWith('files-http.conf'))!.text;
  assert.ok(!http.includes('/secret/'));
});
