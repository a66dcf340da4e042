import * as vscode from 'vscode';
import { describeError, FarmError } from '../../core/errors';
import type { LoadedFarm } from '../../core/farm/light';
import { openFarm, type FarmHandle } from '../../core/farm/light';
import { editorPrograms } from '../settings';
import type { Shape } from '../model/shape';
import type { Outputs } from '../output';
import type { ServerStatus } from '../serverStatus';
import type { FarmState } from '../state';
import type { FarmViews } from '../tree/views';

/** What every command needs: the farm, the trees' state, the logs, the secret store. */
export interface CommandContext {
  ext: vscode.ExtensionContext;
  state: FarmState;
  views: FarmViews;
  out: Outputs;
  server: ServerStatus;
}

/** The farm root, or a FarmError that says how to get one. */
export function requireRoot(c: CommandContext): string {
  const root = c.state.root;
  if (!root) throw new FarmError('This workspace has no iPXE farm (ipxe-farm.json).', 'Run "iPXE Farm: Create Farm" first.', 'ENOFARM');
  return root;
}

/** The farm opened for this command, with the user's program paths (machine-scoped settings). */
export async function requireFarm(c: CommandContext): Promise<FarmHandle> {
  return openFarm(requireRoot(c), { programs: editorPrograms() });
}

/**
 * A command argument from a tree row (a Node), an explicit name (tests, other commands) or nothing (the palette:
 * ask). Returns the name the row stands for.
 */
export function refName(arg: unknown, kind?: string): string | undefined {
  if (typeof arg === 'string') return arg;
  const shape = (arg as { shape?: Shape } | undefined)?.shape;
  if (shape?.ref && (!kind || shape.ref.kind === kind)) return shape.ref.name;
  if (arg && typeof arg === 'object' && 'name' in arg && typeof (arg as { name: unknown }).name === 'string') return (arg as { name: string }).name;
  return undefined;
}

export function refSerial(arg: unknown): string | undefined {
  const shape = (arg as { shape?: Shape } | undefined)?.shape;
  if (shape?.ref?.serial) return shape.ref.serial;
  if (arg && typeof arg === 'object' && 'serial' in arg) return String((arg as { serial: unknown }).serial);
  return typeof arg === 'string' ? arg : undefined;
}

/**
 * Register a command whose failure is one sentence in a notification (and a log line), never a stack trace. The
 * command's result is returned to executeCommand callers (tests assert on it).
 */
type Handler = (...args: unknown[]) => Promise<unknown>;
/** Set while lazyCommands() loads a module: command() hands its handlers over instead of registering them. */
let collecting: Map<string, Handler> | undefined;

export function command(c: CommandContext, id: string, fn: (...args: unknown[]) => Promise<unknown>): vscode.Disposable {
  const gated = runsPrograms(c.ext).get(id);
  const handler: Handler = async (...args: unknown[]) => {
    try {
      // The manifest's enablement greys these out in menus and the palette; executeCommand (keybindings, other
      // extensions, tests) bypasses enablement, so the handler refuses too, saying why.
      if (gated !== undefined && !vscode.workspace.isTrusted) {
        throw new FarmError(`"${gated}" runs programs on files this workspace controls, so it is off while the folder is untrusted: trust it with "Workspaces: Manage Workspace Trust" to use it.`, undefined, 'EUNTRUSTED');
      }
      await c.state.ready;
      return await fn(...args);
    } catch (err) {
      const msg = describeError(err);
      c.out.farm.error(`${id}: ${msg}`);
      if ((err as FarmError).code === 'ECANCELED') { void vscode.window.showInformationMessage('Cancelled.'); return undefined; }
      void vscode.window.showErrorMessage(msg);
      // Debugging the suite: `--env IPXE_FARM_VSCODE_THROW=1` hands the error (with its stack) to executeCommand.
      if (process.env.IPXE_FARM_VSCODE_THROW === '1') throw err;
      return undefined;
    }
  };
  if (collecting) {
    collecting.set(id, handler);
    return { dispose: () => undefined };
  }
  return vscode.commands.registerCommand(id, handler);
}

/**
 * Registers `ids` at once but loads what implements them (`load`, a dynamic import) on the first call of any: the
 * command modules bring node-forge, execa and the QEMU and nginx code, which activation need not load.
 */
export function lazyCommands(c: CommandContext, ids: string[], load: () => Promise<(c: CommandContext) => vscode.Disposable[]>): vscode.Disposable[] {
  let handlers: Promise<Map<string, Handler>> | undefined;
  const owned: vscode.Disposable[] = [];
  const get = () => handlers ??= load().then((make) => {
    const m = new Map<string, Handler>();
    collecting = m;
    try { owned.push(...make(c)); } finally { collecting = undefined; }
    return m;
  });
  return [
    ...ids.map((id) => vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      const h = (await get()).get(id);
      if (!h) throw new Error(`${id} is declared in package.json but no command module implements it`);
      return h(...args);
    })),
    { dispose: () => { for (const d of owned) d.dispose(); } },
  ];
}

let gatedCommands: Map<string, string> | undefined;

/** The commands whose manifest enablement asks for a trusted workspace (id → title): one list, in package.json. */
export function runsPrograms(ext: vscode.ExtensionContext): Map<string, string> {
  if (!gatedCommands) {
    const cmds = (ext.extension.packageJSON?.contributes?.commands ?? []) as Array<{ command: string; title: string; enablement?: string }>;
    gatedCommands = new Map(cmds.filter((x) => x.enablement?.includes('isWorkspaceTrusted')).map((x) => [x.command, x.title]));
  }
  return gatedCommands;
}

/** Ask for a value with validation as you type; undefined when the user backs out. */
export async function ask(prompt: string, validate: (v: string) => string | undefined, opts: Partial<vscode.InputBoxOptions> = {}): Promise<string | undefined> {
  return vscode.window.showInputBox({ prompt, validateInput: validate, ignoreFocusOut: true, ...opts });
}

/** Pick one of the farm's clients (when a command is run from the palette). */
export async function pickClient(farm: LoadedFarm, placeHolder = 'Which client?'): Promise<string | undefined> {
  const names = Object.keys(farm.farm.clients).sort();
  if (names.length === 0) throw new FarmError('The farm has no clients yet.', 'Add one with "iPXE Farm: Add Client".', 'ENOCLIENT');
  return vscode.window.showQuickPick(names, { placeHolder });
}
