// The input boxes driven as a user drives them: the command palette, real key presses into the quick input (through
// Playwright), the validation message appearing as the text is typed, Enter. Then the effect on disk and in the tree.
// Code-server runner only (the harness types into the page); skipped elsewhere, saying so.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { harnessCanSeeScreen, waitForDomText } from '../dom';
import { attributes, clickOn, pressKey, typeText } from '../page';
import { api, eventually, farmRoot, rows } from './support';

const MESSAGE = '.quick-input-widget .quick-input-message';
const ROWS = '.quick-input-widget .quick-input-list .monaco-list-row';

/** Opens the palette, types the command's title and runs it with Enter. */
async function fromPalette(title: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.showCommands');
  await typeText(title, 10);
  await waitForDomText(ROWS, (t) => t.includes(title), 10_000);
  await pressKey('Enter');
}

/** Replaces what the focused input box holds with `text`, typed key by key. */
async function retype(text: string): Promise<void> {
  await pressKey('Control+A');
  await typeText(text, 20);
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((f) => { try { return fs.statSync(f).isFile(); } catch { return false; } });
}

suite('Typing into the workbench', function () {
  setup(function () {
    if (!harnessCanSeeScreen()) { console.log('    SKIPPED LOUDLY: this VS Code runner cannot type into the page (code-server runner only)'); this.skip(); }
  });
  teardown(async () => { await vscode.commands.executeCommand('workbench.action.closeQuickOpen'); });

  test('Add Client… then Issue Client Certificate through the palette: validation as you type, the certificate on disk and in the trees', async function () {
    this.timeout(120_000);
    const root = await farmRoot();
    const a = await api();
    await fromPalette('iPXE Farm: Add Client');
    await waitForDomText(MESSAGE, (t) => /Client name/.test(t));
    await typeText('bad name!');
    await waitForDomText(MESSAGE, (t) => /The client name "bad name!" is not allowed/.test(t));
    await retype('rack7');
    // The message goes back to the prompt once the name is valid.
    await waitForDomText(MESSAGE, (t) => /Client name/.test(t) && !/not allowed/.test(t));
    await pressKey('Enter');
    await waitForDomText(MESSAGE, (t) => /MAC addresses/.test(t));
    await typeText('52:54:zz');
    await waitForDomText(MESSAGE, (t) => /"52:54:zz" is not a MAC address/.test(t));
    await retype('52:54:00:aa:bb:07');
    await waitForDomText(MESSAGE, (t) => /MAC addresses/.test(t) && !/not a MAC/.test(t));
    await pressKey('Enter');
    // The architecture pick: the farm default first.
    await waitForDomText(ROWS, (t) => t.includes('arm64-efi'));
    await pressKey('Enter');
    // The profile pick (the farm has profiles by now): the farm default, first in the list.
    await waitForDomText(ROWS, (t) => t.includes('(farm default)'));
    await pressKey('Enter');
    const farm = await eventually('rack7 in ipxe-farm.json', () => {
      const f = JSON.parse(fs.readFileSync(path.join(root, 'ipxe-farm.json'), 'utf8'));
      return f.clients.rack7 ? f : undefined;
    });
    assert.deepEqual(farm.clients.rack7.macs, ['52:54:00:aa:bb:07']);

    await fromPalette('iPXE Farm: Issue Client Certificate');
    await waitForDomText(ROWS, (t) => t.includes('rack7'));
    await typeText('rack7');
    await waitForDomText(ROWS, (t) => t.trim() === 'rack7' || t.startsWith('rack7'));
    await pressKey('Enter');
    const crt = path.join(root, 'pki', 'issued', 'clients', 'rack7.crt');
    await eventually('rack7.crt on disk', () => fs.existsSync(crt) || undefined, 60_000);
    assert.match(fs.readFileSync(crt, 'utf8'), /BEGIN CERTIFICATE/);
    assert.equal(fs.statSync(path.join(root, 'pki', 'private', 'clients', 'rack7.key')).mode & 0o777, 0o600);
    const row = await eventually('rack7 with its certificate in the Clients tree', async () => (await rows(a.views.clients)).find((r) => r.label === 'rack7' && /^client\.cert\./.test(r.contextValue ?? '')), 20_000);
    assert.ok(row);
    await vscode.commands.executeCommand('ipxeFarm.clients.focus');
    await waitForDomText('.monaco-list-row', (t) => t.includes('rack7'));
    // A click on the row opens the farm file at the client's entry (the command is resolved on click).
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // (Playwright selector: the row of the Clients view, not a CA-tree row with the same name.)
    await clickOn('.pane:has(.pane-header :text-is("Clients")) .monaco-list-row:has-text("rack7")');
    await eventually('ipxe-farm.json open at rack7', () => {
      const ed = vscode.window.activeTextEditor;
      return ed?.document.fileName.endsWith('ipxe-farm.json') && /"rack7"/.test(ed.document.lineAt(ed.selection.start.line).text) ? ed : undefined;
    });
  });

  test('Set Secret through the palette: a password box, the value lands in secrets.json (0600) and in no log', async function () {
    this.timeout(120_000);
    const root = await farmRoot();
    const a = await api();
    const value = `typed-${randomBytes(9).toString('hex')}`;
    await fromPalette('iPXE Farm: Set Secret');
    await waitForDomText(MESSAGE, (t) => /Secret name/.test(t));
    await typeText('bad name');
    await waitForDomText(MESSAGE, (t) => /The secret name "bad name" is not allowed/.test(t));
    await retype('typedtoken');
    await pressKey('Enter');
    await waitForDomText(MESSAGE, (t) => /Value of secret "typedtoken"/.test(t));
    assert.deepEqual(await attributes('.quick-input-widget .quick-input-box input', 'type'), ['password'], 'the value box hides what is typed');
    await typeText(value);
    await pressKey('Enter');
    const secretsFile = path.join(root, 'secrets.json');
    await eventually('the typed secret in secrets.json', () => (fs.existsSync(secretsFile) && JSON.parse(fs.readFileSync(secretsFile, 'utf8')).secrets.typedtoken === value) || undefined);
    assert.equal(fs.statSync(secretsFile).mode & 0o777, 0o600);
    // Nowhere else: not in this window's logs (output channels, extension host), not in any other file of the farm.
    const windowLogs = path.dirname(path.dirname(a.logDir));
    const leaks = [...filesUnder(windowLogs), ...filesUnder(root).filter((f) => f !== secretsFile)]
      .filter((f) => { try { return fs.statSync(f).size < 20_000_000 && fs.readFileSync(f, 'latin1').includes(value); } catch { return false; } });
    assert.deepEqual(leaks, [], 'the secret value appears in no log or other file');
    assert.ok(filesUnder(windowLogs).length > 0, `the window's log folder ${windowLogs} has files to scan`);
  });
});
