import * as vscode from 'vscode';
import * as path from 'node:path';
import { describeError, FarmError } from '../core/errors';
import { initFarm } from '../core/farm/light';
import { positionOf } from '../core/farm/light';
import { FARM_FILE } from '../core/farm/light';
import { command, CommandContext, lazyCommands } from './commands/context';
import { FarmFileDiagnostics } from './farm/farmDiagnostics';
import { NginxSaveHook } from './nginx/saveHook';
import { Outputs } from './output';
import { ServerStatus, statusBarItem } from './serverStatus';
import { SparePoolFiller } from './sparePool';
import { FarmState } from './state';
import { createViews, FarmViews } from './tree/views';

/** What activate() hands to tests and the benchmark (executeCommand results cover the rest). */
export interface FarmExtensionApi {
  state: FarmState;
  views: FarmViews;
  server: ServerStatus;
  saveHook: NginxSaveHook;
  /** Milliseconds inside activate() (module loading not included: VS Code measures that itself). */
  activationMs: number;
  /** Milliseconds of the first read of the farm, PKI index and boot events after activation. */
  firstReadMs: number | undefined;
  farmRoot(): Promise<{ root?: string; folder?: string }>;
  /** This window's extension-host log folder (the output channels' {log:true} files live under it): tests scan it for secrets. */
  logDir: string;
}

/** Registered here with their code; every other command of the manifest is lazy. */
const EAGER = ['ipxeFarm.createFarm', 'ipxeFarm.refresh', 'ipxeFarm.openEntry', 'ipxeFarm.openFarmFile'];

function lazyIds(context: vscode.ExtensionContext, eager: string[]): string[] {
  const cmds = (context.extension.packageJSON?.contributes?.commands ?? []) as Array<{ command: string }>;
  return cmds.map((x) => x.command).filter((id) => !eager.includes(id));
}

/**
 * Cheap on purpose: no child process, no CA or nginx work at activation; one read of the farm file, the PKI index and
 * the boot-event tail for the trees. Everything else happens when a command runs.
 */
export async function activate(context: vscode.ExtensionContext): Promise<FarmExtensionApi> {
  const t0 = performance.now();
  const out = new Outputs();
  const state = new FarmState();
  const server = new ServerStatus();
  const { views, disposables } = createViews(state, server);
  const saveHook = new NginxSaveHook(() => state.root, out, server);
  const c: CommandContext = { ext: context, state, views, out, server };
  context.subscriptions.push(out, state, server, saveHook, new FarmFileDiagnostics(), ...disposables);
  context.subscriptions.push(statusBarItem(server, () => { const f = state.snapshot?.loaded; return f && server.runtimeOf(f); }, state.onDidChange));

  context.subscriptions.push(
    command(c, 'ipxeFarm.createFarm', async (dir?: unknown) => {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      if (state.root && typeof dir !== 'string') {
        void vscode.window.showInformationMessage(`This workspace already has a farm: ${path.join(state.root, FARM_FILE)}.`);
        return state.root;
      }
      const target = typeof dir === 'string' ? dir : folder;
      if (!target) throw new FarmError('Open a folder first: a farm lives in a workspace folder.', undefined, 'ENOFOLDER');
      const layout = await initFarm(target);
      await state.locate();
      const doc = await vscode.workspace.openTextDocument(layout.farmFile);
      await vscode.window.showTextDocument(doc, { preview: false });
      out.farm.info(`Farm created at ${layout.root}`);
      return layout.root;
    }),
    command(c, 'ipxeFarm.refresh', async () => { await state.locate(); return state.snapshot?.readAt; }),
    command(c, 'ipxeFarm.openEntry', async (file?: unknown, pointer?: unknown) => {
      if (typeof file !== 'string') return undefined;
      const doc = await vscode.workspace.openTextDocument(file);
      const editor = await vscode.window.showTextDocument(doc, { preview: true });
      if (typeof pointer === 'string') {
        const at = positionOf(doc.getText(), pointer);
        const range = new vscode.Range(at.line, at.column, at.line, at.column + at.length);
        editor.selection = new vscode.Selection(range.start, range.end);
        editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
      }
      return file;
    }),
    command(c, 'ipxeFarm.openFarmFile', async () => vscode.commands.executeCommand('ipxeFarm.openEntry', state.root && path.join(state.root, FARM_FILE))),
    // The rest of the manifest's commands: implemented in modules loaded on the first call (see lazyCommands).
    ...lazyCommands(c, lazyIds(context, EAGER), async () => {
      const { allCommands } = await import('./commands/all');
      return (cc) => allCommands(cc, saveHook);
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void state.locate()),
  );
  // The farm file may appear later (Create Farm, git checkout): watch for it anywhere in the workspace.
  const farmWatcher = vscode.workspace.createFileSystemWatcher(`**/${FARM_FILE}`, false, true, false);
  context.subscriptions.push(farmWatcher, farmWatcher.onDidCreate(() => void state.locate()), farmWatcher.onDidDelete(() => void state.locate()));

  // The farm is read after activation returns: the trees fill a moment later, commands wait for it (state.ready).
  const t1 = performance.now();
  state.ready = state.locate().then(
    () => { api.firstReadMs = performance.now() - t1; },
    (err) => out.farm.error(`Reading the farm failed: ${describeError(err)}`),
  );
  const pool = new SparePoolFiller(state, out);
  context.subscriptions.push(pool);
  void state.ready.then(() => pool.schedule());
  const activationMs = performance.now() - t0;
  const api: FarmExtensionApi = {
    state, views, server, saveHook, activationMs, firstReadMs: undefined, logDir: context.logUri.fsPath,
    farmRoot: async () => { await state.ready; return { root: state.root, folder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath }; },
  };
  return api;
}

export function deactivate(): void {
  /* disposables go with the context */
}
