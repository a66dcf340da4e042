// The foundation, checked inside a real VS Code: the extension loads from this repository, activates, its activity-bar
// container and three views are registered in the workbench, and "iPXE Farm: Create Farm" writes a farm that parses.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { domTexts, harnessCanSeeScreen, waitForDomText } from '../dom';
import { screenshot } from '../screenshot';

const EXTENSION_ID = 'ipxe-farm.ipxe-farm';
const VIEWS = [
  { id: 'ipxeFarm.ca', name: 'Certificate Authority' },
  { id: 'ipxeFarm.clients', name: 'Clients' },
  { id: 'ipxeFarm.mappings', name: 'Boot Mappings' },
];

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded in this VS Code`);
  return ext;
}

function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(folder, 'the harness opens a workspace folder; none is open');
  return folder;
}

suite('Foundation', () => {
  test('runs inside a real VS Code', () => {
    // The line npm test shows to prove where the suite ran.
    console.log(`    VS Code ${vscode.version} (${vscode.env.appName}, ${vscode.env.uiKind === vscode.UIKind.Web ? 'web workbench' : 'desktop'}, extension host Node ${process.version})`);
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
    const [major, minor] = vscode.version.split('.').map(Number);
    assert.ok(major === 1 && (minor ?? 0) >= 95, `VS Code ${vscode.version} is older than the manifest's engines.vscode`);
  });

  test('the extension is the one from this repository and activates', async () => {
    const ext = extension();
    // The harness names the repository it passed as extensionDevelopmentPath; F5 users run from out/…/suite.
    const repo = process.env.IPXE_FARM_REPO ?? path.resolve(__dirname, '..', '..', '..', '..');
    assert.equal(fs.realpathSync(ext.extensionPath), fs.realpathSync(repo));
    await ext.activate();
    assert.equal(ext.isActive, true);
    const api = ext.exports as { farmRoot?: unknown } | undefined;
    assert.equal(typeof api?.farmRoot, 'function', 'activate() returns the extension API with farmRoot()');
  });

  test('contributes the "iPXE Farm" activity-bar container with its three views, registered in the workbench', async () => {
    const pkg = extension().packageJSON as {
      contributes: { viewsContainers: { activitybar: { id: string; title: string }[] }; views: Record<string, { id: string; name: string }[]> };
    };
    assert.deepEqual(pkg.contributes.viewsContainers.activitybar.map((c) => [c.id, c.title]), [['ipxeFarm', 'iPXE Farm']]);
    assert.deepEqual(pkg.contributes.views.ipxeFarm?.map((v) => ({ id: v.id, name: v.name })), VIEWS);
    // The workbench registers a focus command per view it knows and an open command per container: their presence
    // shows the contributions were accepted, not merely written in package.json.
    const commands = new Set(await vscode.commands.getCommands(true));
    for (const v of VIEWS) assert.ok(commands.has(`${v.id}.focus`), `the workbench has no view ${v.id}`);
    assert.ok(commands.has('workbench.view.extension.ipxeFarm'), 'the workbench has no iPXE Farm container');
    await vscode.commands.executeCommand('workbench.view.extension.ipxeFarm');
    await vscode.commands.executeCommand('ipxeFarm.ca.focus');
    await screenshot('foundation-welcome');
  });

  test('with no farm yet, the workbench shows the three views offering "Create Farm"', async function () {
    if (!harnessCanSeeScreen()) {
      console.log('    SKIPPED: this runner cannot read the screen (only the code-server harness answers DOM queries)');
      this.skip();
    }
    await vscode.commands.executeCommand('workbench.view.extension.ipxeFarm');
    const titles = await waitForDomText('.pane-header .title', (t) => t.includes('Boot Mappings'));
    for (const v of VIEWS) assert.ok(titles.some((t) => t.trim().toLowerCase() === v.name.toLowerCase()), `no "${v.name}" pane in ${JSON.stringify(titles)}`);
    const welcome = await waitForDomText('.welcome-view-content', (t) => t.includes('Create Farm'));
    assert.ok(welcome.some((t) => t.includes('This workspace has no iPXE farm yet.')), `the CA view's welcome text is missing: ${JSON.stringify(welcome)}`);
    assert.equal(welcome.filter((t) => t.includes('Create Farm')).length, VIEWS.length, 'each of the three views offers Create Farm');
    assert.deepEqual(await domTexts('.no-such-element-here'), []);
  });

  test('"iPXE Farm: Create Farm" is a registered command', async () => {
    const pkg = extension().packageJSON as { contributes: { commands: { command: string; title: string; category?: string }[] } };
    const entry = pkg.contributes.commands.find((c) => c.command === 'ipxeFarm.createFarm');
    assert.ok(entry, 'package.json contributes no ipxeFarm.createFarm');
    assert.equal(`${entry.category}: ${entry.title}`, 'iPXE Farm: Create Farm');
    // getCommands() lists handlers, which exist once the extension is active (a run with --grep may start here).
    await extension().activate();
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('ipxeFarm.createFarm'), 'the command is contributed but no handler is registered');
  });

  test('Create Farm writes a starter ipxe-farm.json into the workspace folder and opens it', async () => {
    const folder = workspaceFolder();
    const farmFile = path.join(folder, 'ipxe-farm.json');
    assert.equal(fs.existsSync(farmFile), false, `the workspace ${folder} should start without a farm`);

    const root = await vscode.commands.executeCommand<string | undefined>('ipxeFarm.createFarm');
    assert.equal(root && fs.realpathSync(root), fs.realpathSync(folder));
    const farm = JSON.parse(fs.readFileSync(farmFile, 'utf8')) as { version?: unknown; name?: unknown; clients?: unknown; profiles?: unknown };
    assert.equal(farm.version, 1);
    assert.equal(typeof farm.name, 'string');
    assert.deepEqual(farm.clients, {});
    assert.deepEqual(farm.profiles, {});
    // The CA's folder holds keys: private from the start.
    assert.equal(fs.statSync(path.join(folder, 'pki')).mode & 0o777, 0o700);
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, farmFile, 'the new farm file is shown in an editor');
    if (harnessCanSeeScreen()) {
      // The welcome content is tied to !ipxeFarm.hasFarm: with a farm it must give way to the trees.
      const deadline = Date.now() + 15_000;
      let offers = await domTexts('.welcome-view-content');
      while (offers.some((t) => t.includes('Create Farm')) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        offers = await domTexts('.welcome-view-content');
      }
      assert.deepEqual(offers.filter((t) => t.includes('Create Farm')), [], 'the views still offer Create Farm after the farm was created');
    }
    await screenshot('foundation-created');
  });

  test('running Create Farm again leaves the existing farm untouched', async () => {
    const farmFile = path.join(workspaceFolder(), 'ipxe-farm.json');
    if (!fs.existsSync(farmFile)) await vscode.commands.executeCommand('ipxeFarm.createFarm');
    const before = fs.readFileSync(farmFile);
    const mtime = fs.statSync(farmFile).mtimeMs;
    const root = await vscode.commands.executeCommand<string | undefined>('ipxeFarm.createFarm');
    assert.ok(root, 'a second Create Farm answers with the farm that is there');
    assert.deepEqual(fs.readFileSync(farmFile), before);
    assert.equal(fs.statSync(farmFile).mtimeMs, mtime);
  });
});
