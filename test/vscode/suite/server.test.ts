// nginx and the boot service from the editor, with the real local nginx: start, a real mutual-TLS request (curl with
// the client's certificate), the save hook (a broken config shows in the Problems panel and is NOT reloaded; the fix
// is), the status the Boot Mappings view shows, and stop.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ReloadOutcome } from '../../../src/core/nginx/reloadOnSave';
import { which } from '../../../src/core/process/light';
import { api, eventually, farmRoot, rows } from './support';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)); });
  });
}

/**
 * HTTP status of a mutual-TLS request as dut1 ('000' when the connection itself failed). Asynchronous on purpose: the
 * boot service answering it runs in this same extension host.
 */
function curl(root: string, port: number, route: string): Promise<{ status: string; body: string }> {
  const pki = path.join(root, 'pki');
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '-m', '10', '--cacert', path.join(pki, 'ca.crt'), '--cert', path.join(pki, 'issued', 'clients', 'dut1.crt'),
      '--key', path.join(pki, 'private', 'clients', 'dut1.key'), '-w', '\n%{http_code}', `https://127.0.0.1:${port}${route}`], { encoding: 'utf8' }, (err, out, stderr) => {
      if (err && !out) { resolve({ status: '000', body: stderr || String(err) }); return; }
      const cut = out.lastIndexOf('\n');
      resolve({ status: out.slice(cut + 1), body: out.slice(0, cut) });
    });
  });
}

suite('nginx and the boot service from the editor', function () {
  let root: string;
  let port = 0;
  let skip: string | undefined;

  suiteSetup(async function () {
    if (!which('nginx')) { skip = 'SKIPPED: nginx is not installed (apt-get install nginx): the save hook was NOT tested'; return; }
    root = await farmRoot();
    if (!fs.existsSync(path.join(root, 'pki', 'issued', 'clients', 'dut1.crt'))) { skip = 'SKIPPED: the seed-workflow suite did not issue dut1'; return; }
    // The harness's temp sandbox is 0700; give its folders search permission, as a home folder has, so the local
    // nginx's www-data workers can enter the farm (test-environment setup, like test/support/nginx.ts does).
    for (let d = root; d.startsWith('/tmp/') || d.startsWith(os.tmpdir() + path.sep); d = path.dirname(d)) {
      fs.chmodSync(d, fs.statSync(d).mode | 0o011);
    }
    // The boot service refuses a profile whose files are missing: the linux profile boots files/vmlinuz + initrd.img.
    for (const f of ['vmlinuz', 'initrd.img']) if (!fs.existsSync(path.join(root, 'files', f))) fs.writeFileSync(path.join(root, 'files', f), 'test image\n');
    port = await freePort();
    const httpPort = await freePort();
    const file = path.join(root, 'ipxe-farm.json');
    const farm = JSON.parse(fs.readFileSync(file, 'utf8'));
    // Loopback only: the local nginx listens on 127.0.0.1 for a loopback farm address.
    farm.server = { address: '127.0.0.1', names: ['localhost', '127.0.0.1'], httpsPort: port, httpPort };
    farm.nginx.runtime = 'local';
    fs.writeFileSync(file, `${JSON.stringify(farm, null, 2)}\n`);
    await (await api()).state.refresh();
  });

  suiteTeardown(async () => {
    if (skip) return;
    await vscode.commands.executeCommand('ipxeFarm.stopBootService');
    await vscode.commands.executeCommand('ipxeFarm.stopNginx');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const guard = (ctx: Mocha.Context) => { if (skip) { console.log(`    ${skip}`); ctx.skip(); } };

  test('Start nginx and Start Boot Service: dut1 gets its script over mutual TLS', async function () {
    guard(this);
    const a = await api();
    const st = await vscode.commands.executeCommand<{ state: string }>('ipxeFarm.startNginx');
    assert.equal(st?.state, 'running', 'nginx runs');
    assert.equal(a.server.nginx, 'running');
    const sock = await vscode.commands.executeCommand<string>('ipxeFarm.startBootService');
    assert.ok(sock && fs.existsSync(sock), 'the boot service socket exists');
    let last = { status: '', body: '' };
    const r = await eventually('a 200 from the boot service', async () => { last = await curl(root, port, '/ipxe'); return last.status === '200' ? last : undefined; })
      .catch((e: Error) => { throw new Error(`${e.message}; last answer ${last.status}: ${last.body.slice(0, 400)}`); });
    assert.match(r.body, /^#!ipxe/);
    assert.match(r.body, /kernel /);
    // nginx writes the access-log line as the request ends, which may be just after curl has its answer.
    await eventually('Show nginx Logs to have the request just made', async () => /"GET \/ipxe" 200/.test(await vscode.commands.executeCommand<string>('ipxeFarm.showNginxLogs')));
    const server = (await rows(a.views.mappings)).find((x) => x.label === 'Server')!;
    const parts = await rows(a.views.mappings, server.node);
    assert.equal(parts.find((p) => p.label === 'nginx')!.contextValue, 'server.nginx.running');
    assert.equal(parts.find((p) => p.label === 'Boot service')!.contextValue, 'server.boot.running');
  });

  test('saving a broken nginx file: problems in the Problems panel, no reload, the old config keeps serving; saving the fix reloads', async function () {
    guard(this);
    const a = await api();
    const confD = path.join(root, 'nginx', 'conf.d');
    const file = path.join(confD, fs.readdirSync(confD).filter((f) => f.endsWith('.conf')).sort()[0]!);
    const doc = await vscode.workspace.openTextDocument(file);
    const editor = await vscode.window.showTextDocument(doc);
    const next = () => new Promise<ReloadOutcome>((resolve) => { const d = a.saveHook.onDidCheck((o) => { d.dispose(); resolve(o); }); });

    let outcome = next();
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), 'bogus_directive on;\n'));
    await doc.save();
    const bad = await outcome;
    assert.equal(bad.ok, false);
    assert.equal(bad.reloaded, false);
    const diags = vscode.languages.getDiagnostics(doc.uri);
    assert.ok(diags.some((d) => d.range.start.line === 0 && /unknown directive "bogus_directive"/.test(d.message)), JSON.stringify(diags.map((d) => [d.range.start.line, d.message])));
    assert.equal(a.server.nginx, 'config-error');
    assert.equal((await curl(root, port, '/ipxe')).status, '200', 'the running nginx still serves the last good config');

    outcome = next();
    await editor.edit((e) => e.delete(new vscode.Range(0, 0, 1, 0)));
    await doc.save();
    const good = await outcome;
    assert.equal(good.ok, true);
    assert.equal(good.reloaded, true);
    assert.deepEqual(vscode.languages.getDiagnostics(doc.uri), []);
    assert.equal(a.server.nginx, 'running');
  });

  test('Stop Boot Service and Stop nginx: the port closes and the status says stopped', async function () {
    guard(this);
    const a = await api();
    assert.equal(await vscode.commands.executeCommand('ipxeFarm.stopBootService'), true);
    const st = await vscode.commands.executeCommand<{ state: string }>('ipxeFarm.stopNginx');
    assert.equal(st?.state, 'stopped');
    assert.equal(a.server.nginx, 'stopped');
    assert.equal((await curl(root, port, '/ipxe')).status, '000');
  });
});
