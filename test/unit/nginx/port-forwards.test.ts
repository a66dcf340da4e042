import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseForwards } from '../../../src/core/nginx/portForwards';

// What `iptables -t nat -S` printed on this machine after podman had left a container's forwards behind (trimmed).
const NETAVARK = `-P PREROUTING ACCEPT
-P OUTPUT ACCEPT
-N NETAVARK-DN-1D8721804F16F
-N NETAVARK-HOSTPORT-DNAT
-A PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT
-A OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT
-A NETAVARK-DN-1D8721804F16F -s 10.88.0.0/16 -d 127.0.0.1/32 -p tcp -m tcp --dport 45999 -j NETAVARK-HOSTPORT-SETMARK
-A NETAVARK-DN-1D8721804F16F -d 127.0.0.1/32 -p tcp -m tcp --dport 45999 -j DNAT --to-destination 10.88.0.237:45999
-A NETAVARK-DN-1D8721804F16F -p tcp -m tcp --dport 8000:8100 -j DNAT --to-destination 10.88.0.9
-A NETAVARK-HOSTPORT-DNAT -p tcp -m tcp --dport 45999 -m comment --comment "dnat name: podman id: f448cc9b" -j NETAVARK-DN-1D8721804F16F
-A NETAVARK-HOSTPORT-DNAT -p tcp -m tcp --dport 8000:8100 -j NETAVARK-DN-1D8721804F16F`;

test('a netavark forward of the port on 127.0.0.1 is found, with its chain, target and the rule as printed', () => {
  assert.deepEqual(parseForwards(NETAVARK, [45999], '127.0.0.1'), [{
    port: 45999, to: '10.88.0.237:45999', chain: 'NETAVARK-DN-1D8721804F16F',
    rule: '-A NETAVARK-DN-1D8721804F16F -d 127.0.0.1/32 -p tcp -m tcp --dport 45999 -j DNAT --to-destination 10.88.0.237:45999',
  }]);
});

test('nginx on every address is reached through 127.0.0.1 too, so a loopback-only forward counts', () => {
  assert.deepEqual(parseForwards(NETAVARK, [45999], '0.0.0.0').map((f) => f.to), ['10.88.0.237:45999']);
});

test('a forward for another address, another port or UDP is not ours', () => {
  assert.deepEqual(parseForwards(NETAVARK, [45999], '192.0.2.7'), []);
  assert.deepEqual(parseForwards(NETAVARK, [45998, 8443], '127.0.0.1'), []);
  assert.deepEqual(parseForwards('-A OUTPUT -p udp -m udp --dport 45999 -j DNAT --to-destination 10.0.0.1', [45999], '127.0.0.1'), []);
});

test('a port range and a rule without -d take the port on any address', () => {
  assert.deepEqual(parseForwards(NETAVARK, [8050, 8101], '192.0.2.7').map((f) => [f.port, f.to]), [[8050, '10.88.0.9']]);
});

test('a CIDR in -d covers the addresses inside it only', () => {
  const rule = '-A OUTPUT -d 127.0.0.0/8 -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.1.1.1:443';
  assert.equal(parseForwards(rule, [443], '127.0.0.2').length, 1);
  assert.equal(parseForwards(rule, [443], '10.0.0.2').length, 0);
});

test('a chain nothing jumps to sends no packet anywhere, and a negated rule is not claimed', () => {
  assert.deepEqual(parseForwards('-N LEFTOVER\n-A LEFTOVER -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.1.1.1:443', [443], '127.0.0.1'), []);
  assert.deepEqual(parseForwards('-A OUTPUT ! -d 127.0.0.1/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.1.1.1:443', [443], '127.0.0.1'), []);
});
