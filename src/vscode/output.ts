import * as vscode from 'vscode';

/**
 * Log output channels ({log: true}: levels, timestamps, the user's log level): one for what the extension does, one
 * for nginx, one for the boot service. Secrets never reach them: callers log names, paths and outcomes only.
 */
export class Outputs implements vscode.Disposable {
  readonly farm = vscode.window.createOutputChannel('iPXE Farm', { log: true });
  readonly nginx = vscode.window.createOutputChannel('iPXE Farm: nginx', { log: true });
  readonly boot = vscode.window.createOutputChannel('iPXE Farm: boot service', { log: true });

  dispose(): void {
    this.farm.dispose();
    this.nginx.dispose();
    this.boot.dispose();
  }
}
