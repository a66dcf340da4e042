// The seed's workflow from the editor, against the workspace farm: CA, server, clients (one and in bulk), secrets,
// the script a client gets, fingerprints, revocation, renewal, signing. Each command's effect is checked on disk (with
// openssl where a certificate is involved) and in the trees (labels and context values).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CertRecord } from '../../../src/core/pki/types';
import { screenshot } from '../screenshot';
import { api, eventually, farmRoot, rows } from './support';

function editFarm(root: string, change: (farm: Record<string, any>) => void): void {
  const file = path.join(root, 'ipxe-farm.json');
  const farm = JSON.parse(fs.readFileSync(file, 'utf8'));
  change(farm);
  fs.writeFileSync(file, `${JSON.stringify(farm, null, 2)}\n`);
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

suite('Seed workflow from the editor', () => {
  let root: string;
  suiteSetup(async () => { root = await farmRoot(); });

  test('Create CA writes the root (key 0600) and the CA tree shows it', async () => {
    const a = await api();
    const rec = await vscode.commands.executeCommand<CertRecord>('ipxeFarm.createCa', { protect: false });
    assert.ok(rec, 'Create CA answers with the root record');
    assert.equal(rec.kind, 'root');
    assert.equal(fs.statSync(path.join(root, 'pki', 'private', 'ca.key')).mode & 0o777, 0o600);
    assert.match(openssl(['x509', '-in', path.join(root, 'pki', 'ca.crt'), '-noout', '-subject']), /farm root CA/);
    const ca = await rows(a.views.ca);
    assert.equal(ca[0]!.contextValue, 'cert.root.valid');
    assert.match(ca[0]!.label, /^Root: /);
  });

  test('Issue Server Certificate and Issue Code-Signing Certificate add their groups to the CA tree', async () => {
    const a = await api();
    await vscode.commands.executeCommand('ipxeFarm.issueServer');
    await vscode.commands.executeCommand('ipxeFarm.issueCodesign');
    const chain = path.join(root, 'pki', 'issued', 'server.crt');
    assert.match(openssl(['verify', '-CAfile', path.join(root, 'pki', 'ca.crt'), chain]), /OK/);
    const labels = (await rows(a.views.ca)).map((r) => r.label);
    assert.ok(labels.includes('Server') && labels.includes('Code signing'), labels.join(', '));
  });

  test('a profile typed into the farm file appears in Boot Mappings through the file watcher', async () => {
    const a = await api();
    editFarm(root, (f) => {
      f.profiles = { linux: { kernel: 'vmlinuz', initrds: ['initrd.img'], cmdline: 'console=ttyS0 token={{secret.token}}', verify: false, extra: [] } };
      f.defaultProfile = 'linux';
    });
    const linux = await eventually('the linux profile row', async () => (await rows(a.views.mappings)).find((r) => r.label === 'linux'));
    assert.equal(linux.contextValue, 'profile.default');
    const server = (await rows(a.views.mappings))[0]!;
    assert.equal(server.label, 'Server');
    assert.deepEqual((await rows(a.views.mappings, server.node)).map((r) => r.label), ['Runtime', 'Ports', 'nginx', 'Boot service']);
  });

  test('Add Client refuses a bad name and leaves the farm file as it was', async () => {
    const before = fs.readFileSync(path.join(root, 'ipxe-farm.json'), 'utf8');
    const r = await vscode.commands.executeCommand('ipxeFarm.addClient', { name: 'Bad Name', macs: [] });
    assert.equal(r, undefined);
    assert.equal(fs.readFileSync(path.join(root, 'ipxe-farm.json'), 'utf8'), before);
  });

  test('Add Client + Issue Client Certificate: the client row has its certificate, MACs and profile', async () => {
    const a = await api();
    assert.equal(await vscode.commands.executeCommand('ipxeFarm.addClient', { name: 'dut1', macs: ['52-54-00-12-34-56'], profile: 'linux' }), 'dut1');
    const farm = JSON.parse(fs.readFileSync(path.join(root, 'ipxe-farm.json'), 'utf8'));
    assert.deepEqual(farm.clients.dut1.macs, ['52:54:00:12:34:56']);
    const before = await eventually('dut1 without certificate', async () => (await rows(a.views.clients)).find((r) => r.label === 'dut1'));
    assert.equal(before.contextValue, 'client.nocert.image-missing');
    const rec = await vscode.commands.executeCommand<CertRecord>('ipxeFarm.issueClient', before.node);
    assert.equal(rec.name, 'dut1');
    const crt = path.join(root, 'pki', 'issued', 'clients', 'dut1.crt');
    assert.match(openssl(['x509', '-in', crt, '-noout', '-subject']), /CN ?= ?dut1/);
    assert.equal(fs.statSync(path.join(root, 'pki', 'private', 'clients', 'dut1.key')).mode & 0o777, 0o600);
    const row = await eventually('dut1 with certificate', async () => (await rows(a.views.clients)).find((r) => r.label === 'dut1' && r.contextValue === 'client.cert.image-missing'));
    const details = await rows(a.views.clients, row.node);
    assert.deepEqual(details.map((d) => d.label), ['Certificate', 'MACs', 'Architecture', 'Profile', 'Last boot', 'Image']);
    assert.equal(details[1]!.description, '52:54:00:12:34:56');
    assert.equal(details[2]!.description, 'x86_64-bios (farm default)');
    assert.match(String(details[0]!.description), new RegExp(`#${rec.serial} · valid`));
  });

  test('Issue Client Certificate on a multi-selection issues them all in one go', async () => {
    const a = await api();
    for (const n of ['dut2', 'dut3', 'dut4']) await vscode.commands.executeCommand('ipxeFarm.addClient', { name: n, macs: [] });
    const selected = await eventually('three new rows', async () => {
      const r = (await rows(a.views.clients)).filter((x) => ['dut2', 'dut3', 'dut4'].includes(x.label));
      return r.length === 3 ? r : undefined;
    });
    const recs = await vscode.commands.executeCommand<CertRecord[]>('ipxeFarm.issueClient', selected[0]!.node, selected.map((r) => r.node));
    assert.deepEqual(recs.map((r) => r.name).sort(), ['dut2', 'dut3', 'dut4']);
    const group = await eventually('the Clients group with 4', async () => (await rows(a.views.ca)).find((r) => r.label === 'Clients' && String(r.description).startsWith('4')));
    assert.deepEqual((await rows(a.views.ca, group.node)).map((r) => r.label), ['dut1', 'dut2', 'dut3', 'dut4']);
  });

  test('Set Secret writes secrets.json 0600; Show Boot Script shows the script with the value masked', async () => {
    const value = 'tok-3f9a-secret-value';
    assert.equal(await vscode.commands.executeCommand('ipxeFarm.setSecret', { name: 'token', value }), 'token');
    const file = path.join(root, 'secrets.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).secrets.token, value);
    // Show Script makes the boot service's checks, as `ipxe-farm script` does: the profile's files must be there.
    for (const name of ['vmlinuz', 'initrd.img']) fs.writeFileSync(path.join(root, 'files', name), 'kernel bytes');
    const shown = await vscode.commands.executeCommand<string>('ipxeFarm.showScript', 'dut1');
    assert.ok(shown.includes('kernel'), shown);
    assert.ok(!shown.includes(value), 'the secret value is not on screen');
    assert.ok(shown.includes('••••••'), shown);
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.languageId, 'ipxe');
    assert.equal(editor?.document.getText(), shown);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('Copy Fingerprint puts the certificate\'s real SHA-256 on the clipboard', async () => {
    const a = await api();
    const group = (await rows(a.views.ca)).find((r) => r.label === 'Clients')!;
    const dut1 = (await rows(a.views.ca, group.node)).find((r) => r.label === 'dut1')!;
    const text = await vscode.commands.executeCommand<string>('ipxeFarm.copyFingerprint', dut1.node);
    const der = Buffer.from(openssl(['x509', '-in', path.join(root, 'pki', 'issued', 'clients', 'dut1.crt'), '-outform', 'PEM']).replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const want = crypto.createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
    assert.equal(text, `SHA-256 ${want}`);
    assert.equal(await vscode.env.clipboard.readText(), text);
  });

  test('Revoke marks the certificate revoked in the tree and publishes it in the CRL; Renew issues a new serial', async () => {
    const a = await api();
    const group = (await rows(a.views.ca)).find((r) => r.label === 'Clients')!;
    const dut4 = (await rows(a.views.ca, group.node)).find((r) => r.label === 'dut4')!;
    assert.match((await vscode.commands.executeCommand<string>('ipxeFarm.showScript', 'dut4')) ?? '', /kernel/, 'before the revocation Show Script shows dut4\'s script');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    const rec = await vscode.commands.executeCommand<CertRecord>('ipxeFarm.revoke', dut4.node, { confirmed: true, reason: 'keyCompromise' });
    assert.equal(rec.status, 'revoked');
    const crl = openssl(['crl', '-in', path.join(root, 'pki', 'crl.pem'), '-noout', '-text']);
    assert.match(crl, new RegExp(`Serial Number: 0*${rec.serial}`, 'i'));
    await eventually('dut4 revoked in the CA tree', async () => {
      const g = (await rows(a.views.ca)).find((r) => r.label === 'Clients')!;
      return (await rows(a.views.ca, g.node)).find((r) => r.label === 'dut4' && r.contextValue === 'cert.client.revoked');
    });
    // The certificate check `ipxe-farm script` makes: a revoked client gets no script, so Show Script shows none.
    assert.equal(await vscode.commands.executeCommand('ipxeFarm.showScript', 'dut4'), undefined, 'no script is shown for a revoked client');
    assert.notEqual(vscode.window.activeTextEditor?.document.languageId, 'ipxe');
    const dut3 = (await rows(a.views.ca, group.node)).find((r) => r.label === 'dut3')!;
    const renewed = await vscode.commands.executeCommand<CertRecord>('ipxeFarm.renew', dut3.node);
    assert.equal(renewed.name, 'dut3');
    assert.notEqual(renewed.serial, (dut3.node.shape.ref as { serial: string }).serial);
  });

  test('Sign File writes a detached signature that openssl cms verifies against the farm CA', async () => {
    const kernel = path.join(root, 'files', 'vmlinuz');
    fs.writeFileSync(kernel, crypto.randomBytes(4096));
    const sig = await vscode.commands.executeCommand<string>('ipxeFarm.signFile', kernel);
    assert.equal(sig, `${kernel}.sig`);
    openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', sig, '-content', kernel, '-CAfile', path.join(root, 'pki', 'ca.crt'), '-purpose', 'any', '-out', '/dev/null']);
    fs.appendFileSync(kernel, 'tampered');
    assert.throws(() => openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', sig, '-content', kernel, '-CAfile', path.join(root, 'pki', 'ca.crt'), '-purpose', 'any', '-out', '/dev/null']));
  });

  test('Sign Certificate Request signs an openssl CSR; Cross-Sign adds another root under the farm CA', async () => {
    const a = await api();
    const tmp = fs.mkdtempSync(path.join(root, '.ipxe-farm', 'csr-'));
    try {
      const csr = path.join(tmp, 'board42.csr');
      openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=board42', '-keyout', path.join(tmp, 'board42.key'), '-out', csr]);
      const signed = await vscode.commands.executeCommand<CertRecord>('ipxeFarm.signCsr', csr);
      assert.equal(signed.name, 'board42');
      assert.match(openssl(['verify', '-CAfile', path.join(root, 'pki', 'ca.crt'), path.join(root, 'pki', signed.certFile)]), /OK/);
      const other = path.join(tmp, 'other-root.crt');
      openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=Other Lab Root', '-keyout', path.join(tmp, 'other.key'), '-out', other]);
      const cross = await vscode.commands.executeCommand<CertRecord>('ipxeFarm.crossSign', other);
      assert.equal(cross.kind, 'cross');
      assert.match(openssl(['x509', '-in', path.join(root, 'pki', cross.certFile), '-noout', '-issuer', '-subject']), /issuer=.*farm root CA[\s\S]*subject=.*Other Lab Root/);
      const groups = await eventually('the Cross-signed group', async () => {
        const labels = (await rows(a.views.ca)).map((r) => r.label);
        return labels.includes('Cross-signed') && labels.includes('Signed requests') ? labels : undefined;
      });
      assert.ok(groups);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('Show Expiring lists nothing for a fresh CA; Decode iPXE Error explains 0216eb3c', async () => {
    const list = await vscode.commands.executeCommand<CertRecord[]>('ipxeFarm.showExpiring');
    assert.deepEqual(list, []);
    const info = await vscode.commands.executeCommand<{ code: string; cause?: string; fix?: string }>('ipxeFarm.decodeError', 'https://ipxe.org/0216eb3c');
    assert.equal(info.code, '0216eb3c');
    assert.ok(info.cause && info.fix, 'a known farm failure comes with a cause and a fix');
  });

  test('while the editor is idle it fills the spare-key pool (0600 keys in pki/private/spare), so issuing never waits for key generation', async function () {
    this.timeout(60_000);
    const spare = path.join(root, 'pki', 'private', 'spare');
    const keys = () => (fs.existsSync(spare) ? fs.readdirSync(spare).filter((f) => f.endsWith('.key')) : []);
    await eventually('4 spare keys', () => (keys().length >= 4 ? true : undefined), 45_000);
    assert.equal(fs.statSync(spare).mode & 0o777, 0o700);
    for (const k of keys()) {
      assert.equal(fs.statSync(path.join(spare, k)).mode & 0o777, 0o600, k);
      assert.match(openssl(['rsa', '-in', path.join(spare, k), '-noout', '-text']), /Private-Key: \(2048 bit/);
    }
  });

  test('screenshot: the three trees of a farm with a CA, clients and a profile', async () => {
    const a = await api();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.view.extension.ipxeFarm');
    for (const v of ['ipxeFarm.ca', 'ipxeFarm.clients', 'ipxeFarm.mappings']) await vscode.commands.executeCommand(`${v}.focus`);
    await rows(a.views.clients);
    await new Promise((r) => setTimeout(r, 1000));
    await screenshot('trees');
  });
});
