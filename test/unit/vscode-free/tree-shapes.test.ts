import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caGroupChildren, caRoots, certHealth, certShape, expiringCerts } from '../../../src/vscode/model/certItems';
import { clientCertMap, clientDetails, clientNames, clientShape, ClientsView } from '../../../src/vscode/model/clientItems';
import { mappingRoots, maskCmdline, profileDetails, profileUsers } from '../../../src/vscode/model/mappingItems';
import { cert, farmWith, indexWith, NOW } from './fixtures';

test('certificate rows: days left, expiring/expired/revoked marked, fingerprints in the tooltip, kind+health in contextValue', () => {
  const ok = certShape(cert('client', 'dut1', '0A', 200), NOW);
  assert.equal(ok.contextValue, 'cert.client.valid');
  assert.match(ok.description!, /#0A · 200 days left/);
  assert.match(ok.tooltip!, /SHA-1: +AB:AB:/);
  assert.match(ok.tooltip!, /SHA-256: CD:CD:/);
  assert.equal(certShape(cert('server', 'server', '02', 10), NOW).contextValue, 'cert.server.expiring');
  const expired = certShape(cert('client', 'old', '03', -5), NOW);
  assert.equal(expired.contextValue, 'cert.client.expired');
  assert.match(expired.description!, /expired 4 days ago|expired 5 days ago/);
  const revoked = cert('client', 'gone', '04', 100, { status: 'revoked', revokedAt: '2026-05-01T00:00:00Z' });
  assert.equal(certHealth(revoked, NOW), 'revoked');
  assert.match(certShape(revoked, NOW).description!, /revoked 2026-05-01/);
});

test('the CA tree: root first, then groups by kind in a fixed order, with a count of problems', () => {
  const idx = indexWith([cert('root', 'root', '01', 3000), cert('client', 'b', '05', 100), cert('client', 'a', '04', 3), cert('server', 'server', '02', 500), cert('codesign', 'codesign', '03', 500)]);
  const roots = caRoots(idx, NOW);
  assert.deepEqual(roots.map((r) => r.label), ['Root: CN=root,O=lab', 'Server', 'Clients', 'Code signing']);
  assert.equal(roots[0]!.contextValue, 'cert.root.valid');
  assert.match(roots[2]!.description!, /2 · 1 expiring or expired/);
  assert.deepEqual(caGroupChildren(idx, 'client', NOW).map((r) => r.label), ['a', 'b']);
  assert.deepEqual(expiringCerts(idx, NOW).map((r) => r.name), ['a']);
  assert.equal(caRoots(indexWith([]), NOW)[0]!.contextValue, 'ca.none');
});

test('client rows: certificate, image state, last boot and the context value menus use', () => {
  const farm = farmWith(3);
  const idx = indexWith([cert('client', 'dut0', '10', 100, { status: 'revoked' }), cert('client', 'dut0', '11', 100), cert('client', 'dut1', '12', -1)]);
  const v: ClientsView = {
    farm, certs: clientCertMap(idx), now: NOW,
    lastBoots: { dut0: { time: new Date(NOW - 120_000).toISOString(), status: 200, path: '/ipxe' } },
    images: (n) => (n === 'dut0' ? 'built' : n === 'dut1' ? 'stale' : 'missing'),
  };
  assert.equal(v.certs.get('dut0')!.serial, '11', 'the valid certificate wins over the revoked one');
  const r0 = clientShape('dut0', v);
  assert.equal(r0.contextValue, 'client.cert.image-built');
  assert.match(r0.description!, /rescue · booted 2 min ago/);
  const r1 = clientShape('dut1', v);
  assert.equal(r1.contextValue, 'client.nocert.image-stale');
  assert.match(r1.description!, /image stale · certificate expired/);
  assert.equal(clientShape('dut2', v).contextValue, 'client.nocert.image-missing');
  const details = clientDetails('dut0', v);
  assert.deepEqual(details.map((d) => d.label), ['Certificate', 'MACs', 'Architecture', 'Profile', 'Last boot', 'Image']);
  assert.equal(details[2]!.description, 'x86_64-bios (farm default)');
  assert.match(r0.description!, /^x86_64-bios · /);
  farm.clients.dut2!.arch = 'arm64-efi';
  assert.match(clientShape('dut2', v).description!, /^arm64-efi · /);
  assert.equal(clientDetails('dut2', v)[2]!.description, 'arm64-efi');
  assert.equal(details[1]!.description, '52:54:00:00:00:00');
  assert.equal(details[0]!.ref!.serial, '11');
  const flaky: ClientsView = { ...v, health: { dut0: { client: 'dut0', boots: 10, passed: 7, successRate: 0.7, state: 'flaky', lastOutcome: 'pass', lastFailure: { at: '2026-01-01T00:00:00Z', reason: 'no marker within 300 s; last stage: DHCP ok' } } } };
  assert.match(clientShape('dut0', flaky).description!, /· flaky 7\/10$/);
  assert.match(clientShape('dut0', flaky).tooltip!, /Last failed verdict: .*no marker within 300 s/);
  assert.equal(clientDetails('dut0', flaky).at(-1)!.description, 'flaky 7/10 · last failure: no marker within 300 s; last stage: DHCP ok');
  assert.deepEqual(clientNames(farmWith(12)).slice(0, 3), ['dut0', 'dut1', 'dut2']);
  assert.equal(clientNames(farmWith(12))[11], 'dut11', 'numeric order: dut2 before dut11');
});

test('boot mappings: profiles with the clients that use them; secrets never shown', () => {
  const farm = farmWith(20);
  farm.clients.lonely = { macs: [], vars: {} };
  const users = profileUsers(farm);
  assert.equal(users.get('rescue')!.length, 2);
  assert.equal(users.get('linux')!.length, 18);
  const roots = mappingRoots(farm);
  assert.deepEqual(roots.map((r) => r.label), ['linux', 'rescue', 'No profile']);
  const rows = profileDetails('linux', farm.profiles.linux!, users.get('linux')!, ['hunter22']);
  const cmd = rows.find((r) => r.label === 'Command line')!.description!;
  assert.equal(cmd, 'console=ttyS0 token=‹secret token› pw=••••••');
  assert.ok(!JSON.stringify(rows).includes('hunter22'));
  assert.equal(maskCmdline('a {{ secret.x }} b'), 'a ‹secret x› b');
});

// The time it takes is measured where it matters, in the real VS Code: `npm run bench -- editor` (300 ms budget).
test('1,000 client rows: one row per client, in order, each without a certificate marked as such', () => {
  const farm = farmWith(1000);
  const v: ClientsView = { farm, certs: clientCertMap(indexWith([])), now: NOW, lastBoots: {}, images: () => 'missing' };
  const names = clientNames(farm);
  const rows = names.map((n) => clientShape(n, v));
  assert.equal(rows.length, 1000);
  assert.deepEqual(rows.map((r) => r.label), names);
  assert.equal(new Set(rows.map((r) => r.id)).size, 1000);
  assert.ok(rows.every((r) => r.description!.includes('no certificate') && r.contextValue === 'client.nocert.image-missing'));
});
