import * as vscode from 'vscode';
import * as path from 'node:path';
import { describeError } from '../core/errors';
import { initFarm } from '../core/farm/init';
import { findFarmRoot } from '../core/farm/load';
import { FARM_FILE } from '../core/farm/model';

/** The folder whose ipxe-farm.json this window works with, or the first workspace folder when there is none yet. */
async function farmRoot(): Promise<{ root?: string; folder?: string }> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) return {};
  return { root: await findFarmRoot(folder).then((r) => (r && r.startsWith(folder) ? r : undefined)), folder };
}

async function refreshContext(): Promise<void> {
  const { root } = await farmRoot();
  await vscode.commands.executeCommand('setContext', 'ipxeFarm.hasFarm', root !== undefined);
}

export async function activate(context: vscode.ExtensionContext): Promise<{ farmRoot: typeof farmRoot }> {
  context.subscriptions.push(
    vscode.commands.registerCommand('ipxeFarm.createFarm', async (dir?: string) => {
      const { root, folder } = await farmRoot();
      if (root && !dir) {
        void vscode.window.showInformationMessage(`This workspace already has a farm: ${path.join(root, FARM_FILE)}.`);
        return root;
      }
      const target = dir ?? folder;
      if (!target) {
        void vscode.window.showErrorMessage('Open a folder first: a farm lives in a workspace folder.');
        return undefined;
      }
      try {
        const layout = await initFarm(target);
        await refreshContext();
        const doc = await vscode.workspace.openTextDocument(layout.farmFile);
        await vscode.window.showTextDocument(doc, { preview: false });
        return layout.root;
      } catch (err) {
        void vscode.window.showErrorMessage(describeError(err));
        return undefined;
      }
    }),
  );
  const watcher = vscode.workspace.createFileSystemWatcher(`**/${FARM_FILE}`);
  context.subscriptions.push(watcher, watcher.onDidCreate(refreshContext), watcher.onDidDelete(refreshContext));
  await refreshContext();
  return { farmRoot };
}

export function deactivate(): void {
  /* disposables go with the context */
}
