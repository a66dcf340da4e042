import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { caRoots, certShape } from '../../../src/vscode/model/certItems';
import { clientCertMap, clientShape } from '../../../src/vscode/model/clientItems';
import { cert, farmWith, indexWith, NOW } from './fixtures';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
const c = pkg.contributes;

function sources(dir: string): string {
  return readdirSync(dir).map((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? readFileSync(p, 'utf8') : '';
  }).join('\n');
}

const registered = new Set([...sources(path.join(repo, 'src', 'vscode')).matchAll(/(?:command\(c, |registerCommand\()'(ipxeFarm\.[A-Za-z]+)'/g)].map((m) => m[1]));
const declared: Array<{ command: string; title: string; category: string; enablement?: string }> = c.commands;

test('every contributed command has a handler, every handler is contributed, all under the "iPXE Farm" category', () => {
  assert.deepEqual(declared.map((d) => d.command).filter((id) => !registered.has(id)), [], 'contributed without a handler');
  assert.deepEqual([...registered].filter((id) => !declared.some((d) => d.command === id)), [], 'registered but not contributed');
  for (const d of declared) assert.equal(d.category, 'iPXE Farm', d.command);
});

test('commands that run programs are disabled in untrusted workspaces; the save hook checks trust too', () => {
  const runsPrograms = ['startNginx', 'stopNginx', 'reloadNginx', 'nginxStatus', 'showNginxLogs', 'startBootService', 'stopBootService', 'buildImage', 'launchQemu', 'stopQemu'];
  for (const id of runsPrograms) {
    const d = declared.find((x) => x.command === `ipxeFarm.${id}`);
    assert.ok(d, id);
    assert.equal(d.enablement, 'isWorkspaceTrusted', `${id} must be disabled in an untrusted workspace`);
  }
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.match(pkg.capabilities.untrustedWorkspaces.description, /runs no programs/);
  assert.match(readFileSync(path.join(repo, 'src', 'vscode', 'nginx', 'saveHook.ts'), 'utf8'), /vscode\.workspace\.isTrusted/);
});

test('menus name real commands, and their viewItem patterns match the context values the trees produce', () => {
  const ids = new Set(declared.map((d) => d.command));
  const items: Array<{ command: string; when: string; group?: string }> = Object.values(c.menus).flat() as never;
  for (const m of items) assert.ok(ids.has(m.command), `menu entry for unknown command ${m.command}`);
  const itemMenus: Array<{ command: string; when: string; group?: string }> = c.menus['view/item/context'];
  const matches = (command: string, view: string, contextValue: string, inline?: boolean) => itemMenus.some((m) => {
    if (m.command !== command || !m.when.includes(`view == ${view}`)) return false;
    if (inline !== undefined && (m.group ?? '').startsWith('inline') !== inline) return false;
    const re = /viewItem =~ \/(.+)\//.exec(m.when);
    return re ? new RegExp(re[1]!).test(contextValue) : false;
  });
  const farm = farmWith(2);
  const v = { farm, certs: clientCertMap(indexWith([cert('client', 'dut0', '05', 200)])), lastBoots: {}, images: () => 'missing' as const, now: NOW };
  const withCert = clientShape('dut0', v).contextValue;
  const withoutCert = clientShape('dut1', v).contextValue;
  assert.ok(matches('ipxeFarm.launchQemu', 'ipxeFarm.clients', withCert, true), 'the inline play button on a client');
  assert.ok(matches('ipxeFarm.launchQemu', 'ipxeFarm.clients', withoutCert, true));
  assert.ok(matches('ipxeFarm.issueClient', 'ipxeFarm.clients', withoutCert, true), 'inline Issue on a client without certificate');
  assert.ok(!matches('ipxeFarm.issueClient', 'ipxeFarm.clients', withCert, true));
  assert.ok(matches('ipxeFarm.buildImage', 'ipxeFarm.clients', withCert, true), 'inline Build when the image is missing');
  const revoked = certShape(cert('client', 'x', '07', 100, { status: 'revoked' }), NOW).contextValue;
  const valid = certShape(cert('client', 'y', '08', 100), NOW).contextValue;
  assert.ok(matches('ipxeFarm.revoke', 'ipxeFarm.ca', valid) && !matches('ipxeFarm.revoke', 'ipxeFarm.ca', revoked), 'revoke only what is not revoked');
  assert.ok(matches('ipxeFarm.copyFingerprint', 'ipxeFarm.ca', revoked, true));
  const root = caRoots(indexWith([cert('root', 'root', '01', 3000)]), NOW)[0]!.contextValue;
  assert.ok(matches('ipxeFarm.copyFingerprint', 'ipxeFarm.ca', root));
  assert.ok(!matches('ipxeFarm.revoke', 'ipxeFarm.ca', root), 'the root is not revoked from a menu');
});

test('settings, walkthrough and views are declared', () => {
  for (const k of ['podmanPath', 'nginxPath', 'qemuPath', 'ipxeSource', 'accel']) assert.ok(c.configuration.properties[`ipxeFarm.${k}`], k);
  assert.deepEqual(c.views.ipxeFarm.map((v: { id: string }) => v.id), ['ipxeFarm.ca', 'ipxeFarm.clients', 'ipxeFarm.mappings']);
  const steps = c.walkthroughs[0].steps;
  assert.ok(steps.length >= 4);
  for (const s of steps) assert.ok(readFileSync(path.join(repo, s.media.markdown), 'utf8').length > 50, s.media.markdown);
});
