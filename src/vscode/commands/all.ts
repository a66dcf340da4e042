import type * as vscode from 'vscode';
import type { NginxSaveHook } from '../nginx/saveHook';
import type { CommandContext } from './context';
import { ipxeCommands } from './ipxe';
import { pkiCommands } from './pki';
import { qemuCommands } from './qemu';
import { serverCommands } from './server';

/** Every command module, loaded together on the first command call (extension.ts, lazyCommands). */
export function allCommands(c: CommandContext, saveHook: NginxSaveHook): vscode.Disposable[] {
  return [...pkiCommands(c), ...serverCommands(c, saveHook), ...qemuCommands(c), ...ipxeCommands(c)];
}
