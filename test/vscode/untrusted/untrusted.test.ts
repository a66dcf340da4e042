// iPXE Farm in an untrusted workspace, in the real VS Code: limited mode (package.json capabilities), the trees
// still show the farm, every command that runs a program is hidden from the palette (its enablement) and refused
// when executed anyway, with the reason; no nginx or QEMU starts; program paths from the workspace are ignored.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { FarmExtensionApi } from '../../../src/vscode/extension';
import { harnessCanSeeScreen, waitForDomText } from '../dom';
import { pressKey, typeText } from '../page';
import { eventually, rows } from '../suite/support';

const ID = 'ipxe-farm.ipxe-farm';
const RUNS_PROGRAMS = ['ipxeFarm.startNginx', 'ipxeFarm.reloadNginx', 'ipxeFarm.startBootService', 'ipxeFarm.buildImage', 'ipxeFarm.launchQemu'];

function gatedInManifest(): Array<{ command: string; title: string }> {
  const cmds = vscode.extensions.getExtension(ID)!.packageJSON.contributes.commands as Array<{ command: string; title: string; enablement?: string }>;
  return cmds.filter((c) => c.enablement?.includes('isWorkspaceTrusted'));
}

/** Processes whose command line names this farm: nginx -p <farm>/…, qemu … <farm>/ipxe/…, the boot service socket. */
function processesOn(root: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try { cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { continue; }
    if (cmd.includes(root) && /nginx|qemu|podman|trap\.sh/.test(cmd)) found.push(`${pid}: ${cmd.trim()}`);
  }
  return found;
}

suite('An untrusted workspace', () => {
  let api: FarmExtensionApi;

  suiteSetup(async function () {
    this.timeout(60_000);
    const ext = vscode.extensions.getExtension<FarmExtensionApi>(ID)!;
    await eventually('the extension to activate on its own', () => ext.isActive || undefined, 30_000);
    api = ext.exports;
    await api.state.ready;
  });

  test('the folder is untrusted, the extension runs in limited mode and the trees show the farm', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'the harness opened the farm without trusting it');
    assert.equal(vscode.extensions.getExtension(ID)!.packageJSON.capabilities.untrustedWorkspaces.supported, 'limited');
    const ca = await eventually('the CA root row', async () => (await rows(api.views.ca)).find((r) => /root/i.test(r.label)));
    assert.ok(ca);
    const dut1 = await eventually('the dut1 row', async () => (await rows(api.views.clients)).find((r) => r.label === 'dut1'));
    assert.match(dut1.contextValue ?? '', /^client\.cert\./, 'dut1 is shown with its certificate');
  });

  test('program paths from the workspace settings are ignored', () => {
    const c = vscode.workspace.getConfiguration('ipxeFarm');
    const trap = process.env.IPXE_FARM_TRAP!;
    assert.ok(trap, 'the harness names the trap script');
    for (const k of ['nginxPath', 'podmanPath', 'qemuPath']) assert.notEqual(c.get(k), trap, `ipxeFarm.${k} from the untrusted workspace must not be used`);
    assert.notEqual(c.get('ipxeSource'), c.inspect('ipxeSource')?.workspaceValue ?? '<none>', 'ipxeFarm.ipxeSource from the workspace must not be used');
  });

  test('the manifest gates the program-running commands on isWorkspaceTrusted, and the palette hides them', async function () {
    const gated = gatedInManifest().map((c) => c.command);
    for (const id of RUNS_PROGRAMS) assert.ok(gated.includes(id), `${id} has enablement isWorkspaceTrusted`);
    if (!harnessCanSeeScreen()) { this.skip(); return; }
    // The real palette, typed into as a user would: "nginx" offers Write nginx Configuration (no program) but not
    // Start, Stop or Reload nginx.
    await vscode.commands.executeCommand('workbench.action.showCommands');
    await typeText('nginx', 20);
    const shown = await waitForDomText('.quick-input-list .monaco-list-row', (t) => /Write nginx Configuration/.test(t), 10_000);
    await pressKey('Escape');
    const text = shown.join('\n');
    assert.doesNotMatch(text, /Start nginx|Stop nginx|Reload nginx/, `the palette offers a program-running command in an untrusted folder: ${text.slice(0, 300)}`);
  });

  test('executed anyway, each program-running command is refused with the reason; nothing runs', async function () {
    this.timeout(60_000);
    const root = api.state.root!;
    for (const { command, title } of gatedInManifest()) {
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand(command, 'dut1')), (err: Error) => {
        const t = title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        assert.match(err.message, new RegExp(`"${t}" runs programs .* untrusted: trust it with "Workspaces: Manage Workspace Trust"`));
        return true;
      }, `${command} must be refused`);
    }
    if (harnessCanSeeScreen()) {
      // The sentence the user sees: in the notification center (toasts may have been replaced by the next one).
      await vscode.commands.executeCommand('notifications.showList');
      await waitForDomText('.notifications-center .notification-list-item-message', (t) => /off while the folder is untrusted/.test(t), 10_000);
      await vscode.commands.executeCommand('notifications.hideList');
    }
    // The save hook stays off as well: saving an nginx file reloads nothing.
    const conf = fs.readdirSync(`${root}/nginx`, { recursive: true }).map(String).find((f) => f.endsWith('.conf'));
    if (conf) {
      const doc = await vscode.workspace.openTextDocument(`${root}/nginx/${conf}`);
      const ed = await vscode.window.showTextDocument(doc);
      await ed.edit((e) => e.insert(new vscode.Position(0, 0), '# saved in an untrusted folder\n'));
      await doc.save();
    }
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(processesOn(root), [], 'no nginx, podman or QEMU runs on the untrusted farm');
    assert.equal(fs.existsSync(process.env.IPXE_FARM_TRAP_MARKER!), false, 'the program paths of the workspace settings never ran');
  });
});
