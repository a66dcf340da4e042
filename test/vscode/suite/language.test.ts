// The iPXE language inside VS Code: *.ipxe and `#!ipxe` files get the language, snippets insert, the farm file's JSON
// schema reports a wrong value in the Problems panel.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, eventually } from './support';
import { harnessCanSeeScreen, waitForDomText } from '../dom';
import { screenshot } from '../screenshot';

suite('iPXE language', () => {
  let dir: string;
  suiteSetup(async () => {
    await api();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-lang-'));
  });
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('*.ipxe files and files whose first line is #!ipxe open as iPXE', async () => {
    const a = path.join(dir, 'boot.ipxe');
    const b = path.join(dir, 'script-without-extension');
    fs.writeFileSync(a, 'dhcp\nchain http://10.0.2.2/x\n');
    fs.writeFileSync(b, '#!ipxe\ndhcp\n');
    assert.equal((await vscode.workspace.openTextDocument(a)).languageId, 'ipxe');
    assert.equal((await vscode.workspace.openTextDocument(b)).languageId, 'ipxe');
    const c = path.join(dir, 'notes.txt');
    fs.writeFileSync(c, 'dhcp\n');
    assert.notEqual((await vscode.workspace.openTextDocument(c)).languageId, 'ipxe');
  });

  test('the snippets are loaded: the secure chain bootstrap inserts with ${mac}, ${serial}, ${uuid} and ${buildarch} intact', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'ipxe', content: '' });
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('editor.action.insertSnippet', { langId: 'ipxe', name: 'Secure chain bootstrap' });
    const text = await eventually('the snippet text', () => (doc.getText().includes('chain') ? doc.getText() : undefined));
    assert.match(text, /^#!ipxe\n/);
    for (const s of ['${mac}', '${serial:uristring}', '${uuid}', '${buildarch}', 'chain --autofree https://boot.example.org:8443/ipxe/', ':retry_dhcp', 'goto retry_dhcp']) {
      assert.ok(text.includes(s), `the inserted bootstrap has ${s}:\n${text}`);
    }
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('the farm-file JSON schema flags a wrong value in ipxe-farm.json', async () => {
    const sub = path.join(dir, 'farm');
    fs.mkdirSync(sub);
    const file = path.join(sub, 'ipxe-farm.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, name: 'x', nginx: { runtime: 'docker' }, clients: { 'Bad Name': { macs: ['zz'] } } }, null, 2));
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const diags = await eventually('schema diagnostics', () => {
      const d = vscode.languages.getDiagnostics(doc.uri);
      return d.length >= 2 ? d : undefined;
    }, 30_000);
    const messages = diags.map((d) => d.message).join('\n');
    assert.match(messages, /podman|local|Value is not accepted/i, messages);
    assert.ok(diags.some((d) => d.range.start.line === 4), `a problem on the runtime line: ${messages}`);
  });

  test('the farm\'s own checks in Problems: a secret on a kernel command line is a warning at the cmdline', async () => {
    const sub = path.join(dir, 'farm-secret');
    fs.mkdirSync(path.join(sub, 'files'), { recursive: true });
    fs.writeFileSync(path.join(sub, 'files', 'vmlinuz'), 'k');
    fs.writeFileSync(path.join(sub, 'secrets.json'), JSON.stringify({ version: 1, secrets: { minio: 'v' } }), { mode: 0o600 });
    const file = path.join(sub, 'ipxe-farm.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, name: 'x', profiles: { b2c: {
      kernel: 'vmlinuz', cmdline: 'console=ttyS0 b2c.minio={{secret.minio}}',
      secretFiles: [{ path: '/run/secrets/m.env', content: 'K={{secret.minio}}' }],
    } } }, null, 2));
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const warn = await eventually('the command-line secret warning', () => vscode.languages.getDiagnostics(doc.uri)
      .find((d) => d.source === 'iPXE Farm' && d.severity === vscode.DiagnosticSeverity.Warning), 30_000);
    assert.match(warn.message, /\{\{secret\.minio\}\}.*\/proc\/cmdline/);
    assert.match(doc.lineAt(warn.range.start.line).text, /"cmdline"/);
    assert.ok(!vscode.languages.getDiagnostics(doc.uri).some((d) => d.severity === vscode.DiagnosticSeverity.Error), 'secretFiles is valid for the schema and the farm');
  });

  test('the "Get started with iPXE Farm" walkthrough opens with its steps', async function () {
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', 'ipxe-farm.ipxe-farm#ipxeFarm.getStarted', false);
    if (!harnessCanSeeScreen()) { console.log('    SKIPPED the on-screen check: this harness cannot read the page'); return; }
    const texts = await waitForDomText('.gettingStartedContainer', (t) => t.includes('Get started with iPXE Farm') && t.includes('Create the farm'), 30_000);
    assert.ok(texts.some((t) => t.includes('Boot a client in QEMU')));
    await screenshot('walkthrough');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
