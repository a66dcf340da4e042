import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embeddedScript, clientEmbeddedScript, checkScriptHost, SCRIPT_MARKERS } from '../../../src/core/ipxe/script';
import { REFUSED_HEADLINE } from '../../../src/core/boot/handler';
import { generalHeader, cryptoHeader, dhcpHeader, localConfigHeaders, HEADER_MARK } from '../../../src/core/ipxe/config';
import { starterFarm } from '../../../src/core/farm/model';
import { FarmError } from '../../../src/core/errors';

const base = { client: 'dut1', address: '10.0.2.2', httpsPort: 8443 };

/** Lines iPXE would execute: no blanks, no comments, no labels. */
const commands = (s: string) => s.split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith(':'));

test('the script starts with #!ipxe, retries DHCP, then chains the farm URL with a failure message and a fallback', () => {
  const s = embeddedScript({ ...base, dhcpAttempts: 4, chainAttempts: 2, retryDelay: 3 });
  const lines = s.split('\n');
  assert.equal(lines[0], '#!ipxe');
  assert.ok(s.endsWith('\n'));
  assert.ok(lines.includes('dhcp && goto farm_net ||'));
  assert.ok(lines.includes('iseq ${farm_try} 4 && goto farm_no_dhcp ||'), 'gives up DHCP after 4 tries');
  assert.ok(lines.includes('chain https://10.0.2.2:8443/boot.ipxe && goto farm_returned ||'));
  assert.ok(lines.includes('iseq ${farm_try} 2 && goto farm_failed ||'));
  assert.ok(lines.includes('sleep 3'));
  assert.ok(lines.some((l) => l.startsWith(`echo ${SCRIPT_MARKERS.fetchFailed}`) && l.includes('ipxe-farm decode')));
  assert.ok(lines.includes('prompt --key s --timeout 10000 && shell ||'), 'retry offers the shell');
  assert.equal(lines.filter((l) => l === 'goto farm_start').length, 1, 'and then starts over');
  assert.ok(!s.includes('ntp '), 'no NTP unless asked');
  // Every goto has its label.
  const labels = new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1)));
  for (const m of s.matchAll(/goto (\S+)/g)) assert.ok(labels.has(m[1]!), `label ${m[1]} exists`);
});

test('ntp, poweroff and shell variants', () => {
  const withNtp = embeddedScript({ ...base, ntp: 'pool.ntp.org' });
  assert.ok(withNtp.split('\n').some((l) => l.startsWith('ntp pool.ntp.org || echo')));
  assert.ok(withNtp.indexOf('ntp pool.ntp.org') < withNtp.indexOf('chain '), 'clock set before HTTPS');
  const off = commands(embeddedScript({ ...base, onFailure: 'poweroff' }));
  assert.ok(off.includes('poweroff'));
  assert.ok(!off.includes('goto farm_start'));
  const shell = commands(embeddedScript({ ...base, onFailure: 'shell' }));
  assert.ok(shell.includes('shell'));
});

test('IPv6 servers get brackets in the URL; names and IPv4 pass as they are', () => {
  assert.match(embeddedScript({ ...base, address: 'fd00::1' }), /chain https:\/\/\[fd00::1\]:8443\/boot\.ipxe /);
  assert.match(embeddedScript({ ...base, address: 'boot.lab.example' }), /chain https:\/\/boot\.lab\.example:8443\//);
  assert.equal(checkScriptHost('127.0.0.1', 'x'), '127.0.0.1');
});

test('values that could start another iPXE command or expand a setting are refused, not escaped', () => {
  const bad: Array<Partial<typeof base> & Record<string, unknown>> = [
    { address: '10.0.2.2\nshell' },
    { address: '10.0.2.2 || shell' },
    { address: '${net0/ip}' },
    { address: 'evil.example/x' },
    { address: '' },
    { address: '999.1.1.1' },
    { client: 'DUT 1' },
    { client: 'dut1\necho' },
    { httpsPort: 0 },
    { httpsPort: 70000 },
    { ntp: 'pool.ntp.org;reboot' },
    { path: '/boot.ipxe?x=${secret}' },
  ];
  for (const b of bad) {
    assert.throws(() => embeddedScript({ ...base, ...b } as Parameters<typeof embeddedScript>[0]), (e: unknown) => e instanceof FarmError && e.message.length > 0, JSON.stringify(b));
  }
});

test('an odd farm name is left out of the comment instead of breaking the script', () => {
  const s = embeddedScript({ ...base, farmName: 'lab\nshell' });
  assert.ok(!s.includes('shell\n#'));
  assert.equal(s.split('\n').filter((l) => l === 'shell').length, 0);
});

test('clientEmbeddedScript takes the server and NTP from the farm file', () => {
  const farm = starterFarm('lab');
  farm.server.address = '192.168.7.1';
  farm.server.httpsPort = 9443;
  farm.ipxe.ntp = '192.168.7.1';
  const s = clientEmbeddedScript(farm, 'dut9');
  assert.ok(s.includes('chain https://192.168.7.1:9443/boot.ipxe'));
  assert.ok(s.includes('ntp 192.168.7.1 ||'));
  assert.ok(s.includes('client dut9'));
});

test('config headers: HTTPS and imgverify on, no cross-signing or OCSP, no serial console', () => {
  const g = generalHeader();
  for (const d of ['DOWNLOAD_PROTO_HTTPS', 'IMAGE_TRUST_CMD', 'CERT_CMD', 'POWEROFF_CMD', 'PARAM_CMD', 'NTP_CMD']) {
    assert.match(g, new RegExp(`^#define ${d}$`, 'm'), d);
  }
  assert.ok(!/^#define CONSOLE_SERIAL/m.test(g));
  const c = cryptoHeader();
  assert.match(c, /^#undef CROSSCERT\n#define CROSSCERT ""$/m);
  assert.match(c, /^#undef OCSP_CHECK$/m);
  assert.deepEqual(Object.keys(localConfigHeaders()).sort(), ['dhcp.h', 'ipxefarm/crypto.h', 'ipxefarm/general.h']);
  // Stable content: a header that changed between two calls would force iPXE to rebuild every object.
  assert.equal(generalHeader(), generalHeader());
});

test('after a failed fetch the script asks /why.ipxe once per attempt, and keeps the error-code hint for when that fails too', () => {
  const s = embeddedScript({ ...base, chainAttempts: 3, retryDelay: 2 });
  const lines = s.split('\n');
  const at = (l: string) => { const i = lines.indexOf(l); assert.ok(i >= 0, `has: ${l}`); return i; };
  const boot = at('chain https://10.0.2.2:8443/boot.ipxe && goto farm_returned ||');
  const asking = at(`echo ${SCRIPT_MARKERS.askingWhy}: https://10.0.2.2:8443/why.ipxe`);
  const why = at('chain --autofree https://10.0.2.2:8443/why.ipxe && goto farm_told ||');
  const hint = lines.findIndex((l) => l.startsWith(`echo ${SCRIPT_MARKERS.fetchFailed} https://10.0.2.2:8443/boot.ipxe`) && l.includes('ipxe-farm decode'));
  const told = at(':farm_told');
  const last = at('iseq ${farm_try} 3 && goto farm_failed ||');
  // In this order: boot fails → ask why → (only if that fails) the decode hint → the retry logic as before.
  assert.deepEqual([boot, asking, why, hint, told, last], [boot, boot + 1, boot + 2, boot + 3, boot + 4, boot + 5]);
  assert.equal(lines.filter((l) => l.includes('/why.ipxe') && l.startsWith('chain')).length, 1, 'one /why.ipxe per failed attempt, in the loop');
  assert.ok(lines.indexOf('sleep 2', last) > last && lines.indexOf('goto farm_chain', last) > last, 'then waits and retries');
  // --autofree: the fetched answer is freed after it ran, so retries do not pile images up.
  assert.match(embeddedScript({ ...base, address: 'fd00::1', path: '/ipxe' }), /^chain --autofree https:\/\/\[fd00::1\]:8443\/why\.ipxe && goto farm_told \|\|$/m);
});

test('the refused marker is the headline the boot service and nginx print', () => {
  assert.equal(SCRIPT_MARKERS.refused, REFUSED_HEADLINE);
});

test('DHCP header: by default no ProxyDHCP wait and a quick first retransmission; each farm setting gives its standard wait back', () => {
  const tuned = dhcpHeader({});
  assert.ok(tuned.startsWith(HEADER_MARK));
  assert.match(tuned, /^#undef DHCP_DISC_PROXY_TIMEOUT_SEC\n#define DHCP_DISC_PROXY_TIMEOUT_SEC 0$/m);
  assert.match(tuned, /^#undef DHCP_DISC_START_TIMEOUT_SEC\n#define DHCP_DISC_START_TIMEOUT_SEC 0$/m);
  // A farm with a ProxyDHCP server: iPXE's own 2 s wait (config/dhcp.h) stays in force.
  const proxy = dhcpHeader({ proxyDhcp: true });
  assert.ok(!/DHCP_DISC_PROXY_TIMEOUT_SEC/.test(proxy));
  assert.match(proxy, /#define DHCP_DISC_START_TIMEOUT_SEC 0/);
  const stock = dhcpHeader({ proxyDhcp: true, fastDhcpRetry: false });
  assert.ok(!/#(define|undef)/.test(stock), 'both settings standard: the header changes nothing');
  assert.ok(!/DHCP_DISC_START_TIMEOUT_SEC/.test(dhcpHeader({ fastDhcpRetry: false })));
  // The hash images are checked against follows the settings.
  assert.notEqual(JSON.stringify(localConfigHeaders({})), JSON.stringify(localConfigHeaders({ proxyDhcp: true })));
  assert.equal(JSON.stringify(localConfigHeaders({})), JSON.stringify(localConfigHeaders({ proxyDhcp: false, fastDhcpRetry: true })));
});

test('with the client\'s MACs, DHCP runs first on the interface that has one (no 15 s link wait on an uncabled port before it)', () => {
  const farm = starterFarm('lab');
  farm.clients.dut1 = { macs: ['52:54:00:00:00:21', '52:54:00:00:00:22'], vars: {} };
  const lines = clientEmbeddedScript(farm, 'dut1').split('\n');
  const at = (l: string) => { const i = lines.indexOf(l); assert.ok(i >= 0, `has: ${l}`); return i; };
  const first = at('iseq ${net${farm_if}/mac} 52:54:00:00:00:21 && goto farm_dhcp_if ||');
  at('iseq ${net${farm_if}/mac} 52:54:00:00:00:22 && goto farm_dhcp_if ||');
  const walk = at('isset ${net${farm_if}/mac} && goto farm_find_if ||');
  const known = at('dhcp net${farm_if} && goto farm_net ||');
  const all = at('dhcp && goto farm_net ||');
  assert.ok(at('set farm_if:int32 0') < first && first < walk && walk < known && known < all, 'known interface first, every interface after');
  // No MACs in the farm file: the plain dhcp, as before.
  assert.ok(!clientEmbeddedScript(farm, 'dut2').includes('farm_if'));
  // A value that is not a MAC never reaches the script.
  assert.throws(() => embeddedScript({ ...base, macs: ['52:54:00:00:00:21 && shell'] }), (e: unknown) => e instanceof FarmError && /MAC/.test(e.message));
  assert.throws(() => embeddedScript({ ...base, macs: ['${x}'] }), FarmError);
});
