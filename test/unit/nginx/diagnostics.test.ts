import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNginxTestOutput, formatDiagnostic } from '../../../src/core/nginx/diagnostics';

const main = '/farm/nginx/nginx.conf';
const https = '/farm/nginx/conf.d/ipxe-https.conf';

test('Debian form: file and line from "in FILE:LINE", severity from the level', () => {
  const d = parseNginxTestOutput('2026/11/22 04:16:13 [emerg] 23588#23588: unknown directive "bogus" in /farm/nginx/conf.d/a.conf:7\nnginx: configuration file /farm/nginx/nginx.conf test failed\n', { mainFile: main });
  assert.deepEqual(d, [{ file: '/farm/nginx/conf.d/a.conf', line: 7, severity: 'error', message: 'unknown directive "bogus"' }]);
});

test('the official image prints each message twice, in both forms: one diagnostic remains', () => {
  const out = [
    '2026/11/22 04:16:13 [emerg] 1#1: unexpected "}" in /etc/nginx/conf.d/default.conf:12',
    'nginx: [emerg] unexpected "}" in /etc/nginx/conf.d/default.conf:12',
    'nginx: [warn] the "listen ... http2" directive is deprecated in /etc/nginx/nginx.conf:3',
  ].join('\n');
  const d = parseNginxTestOutput(out, { mainFile: main, prefixes: [['/etc/nginx/', '/farm/nginx/']] });
  assert.equal(d.length, 2);
  assert.deepEqual(d[0], { file: '/farm/nginx/conf.d/default.conf', line: 12, severity: 'error', message: 'unexpected "}"' });
  assert.equal(d[1]!.severity, 'warning');
  assert.equal(d[1]!.file, main);
});

test('container paths map back by the longest prefix', () => {
  const d = parseNginxTestOutput('nginx: [emerg] x in /etc/nginx/conf.d/a.conf:1', {
    mainFile: main,
    prefixes: [['/etc/nginx/', '/farm/nginx/'], ['/etc/nginx/conf.d/', '/farm/other/']],
  });
  assert.equal(d[0]!.file, '/farm/other/a.conf');
});

test('a message without file:line lands on the config line that quotes its path', () => {
  const sources = {
    [main]: 'events {}\nhttp {\n  include conf.d/*.conf;\n}\n',
    [https]: 'server {\n  listen 443 ssl;\n  # ssl_certificate "/farm/pki/issued/server-chain.crt";\n  ssl_certificate "/farm/pki/issued/server-chain.crt";\n}\n',
  };
  const d = parseNginxTestOutput('nginx: [emerg] cannot load certificate "/farm/pki/issued/server-chain.crt": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory)', { mainFile: main, sources });
  assert.equal(d.length, 1);
  assert.equal(d[0]!.file, https);
  assert.equal(d[0]!.line, 4, 'the commented-out line 3 is skipped');
});

test('an unknown variable lands on the line that uses it; nothing found -> the main file, no line', () => {
  const sources = { [main]: 'http {\n}\n', [https]: 'server {\n  location / { return 200 $nope; }\n}\n' };
  const d = parseNginxTestOutput('2026/11/22 04:16:13 [emerg] 9#9: unknown "nope" variable\nnginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)', { mainFile: main, sources });
  assert.deepEqual(d[0], { file: https, line: 2, severity: 'error', message: 'unknown "nope" variable' });
  assert.deepEqual(d[1], { file: main, severity: 'error', message: 'bind() to 0.0.0.0:80 failed (98: Address already in use)' });
});

test('lines that are not nginx messages ("syntax is ok", podman noise) are not diagnostics', () => {
  const d = parseNginxTestOutput('nginx: the configuration file /farm/nginx/nginx.conf syntax is ok\nnginx: configuration file /farm/nginx/nginx.conf test is successful\nError: something from podman\n', { mainFile: main });
  assert.deepEqual(d, []);
});

test('formatDiagnostic prints file:line: severity: message', () => {
  assert.equal(formatDiagnostic({ file: '/f/a.conf', line: 3, severity: 'error', message: 'boom' }), '/f/a.conf:3: error: boom');
  assert.equal(formatDiagnostic({ file: '/f/a.conf', severity: 'warning', message: 'w' }, (f) => f.slice(3)), 'a.conf: warning: w');
});
