// The .vsix, installed with `--install-extension` like a user would, loads and works — and carries only what it
// should (.vscodeignore): the bundles, manifest, media, snippets, grammar, schema; no sources, tests or node_modules.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'ipxe-farm.ipxe-farm';

function installed(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this VS Code`);
  return ext;
}

suite('Packaged extension (.vsix)', () => {
  test('is loaded from the extensions folder it was installed into, not from the repository', () => {
    const ext = installed();
    const extensionsDir = process.env.IPXE_FARM_EXTENSIONS_DIR;
    assert.ok(extensionsDir, 'the harness passes IPXE_FARM_EXTENSIONS_DIR');
    const where = fs.realpathSync(ext.extensionPath);
    console.log(`    VS Code ${vscode.version} loaded ${EXTENSION_ID} ${(ext.packageJSON as { version: string }).version} from ${where}`);
    assert.ok(where.startsWith(fs.realpathSync(extensionsDir) + path.sep), `${where} is not inside ${extensionsDir}`);
    if (process.env.IPXE_FARM_VSIX_VERSION) assert.equal((ext.packageJSON as { version: string }).version, process.env.IPXE_FARM_VSIX_VERSION);
  });

  test('carries the bundles and no sources, tests or node_modules', () => {
    const root = installed().extensionPath;
    for (const f of ['package.json', 'out/extension.js', 'out/cli.js', 'media/farm.svg']) {
      assert.ok(fs.existsSync(path.join(root, f)), `${f} is missing from the .vsix`);
    }
    for (const d of ['src', 'test', 'node_modules', 'scripts', 'bench']) {
      assert.equal(fs.existsSync(path.join(root, d)), false, `${d}/ should not be in the .vsix`);
    }
    const maps = fs.readdirSync(path.join(root, 'out')).filter((f) => f.endsWith('.map'));
    assert.deepEqual(maps, [], 'source maps stay out of the .vsix');
  });

  test('activates and its Create Farm command writes ipxe-farm.json', async () => {
    const ext = installed();
    await ext.activate();
    assert.equal(ext.isActive, true);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'the harness opens a workspace folder');
    const root = await vscode.commands.executeCommand<string | undefined>('ipxeFarm.createFarm');
    assert.equal(root && fs.realpathSync(root), fs.realpathSync(folder));
    const farm = JSON.parse(fs.readFileSync(path.join(folder, 'ipxe-farm.json'), 'utf8')) as { version?: unknown };
    assert.equal(farm.version, 1);
  });
});
