import * as vscode from 'vscode';

/**
 * Log output channels ({log: true}: levels, timestamps, the user's log level): one for what the extension does, one
 * for nginx, one for the boot service. Created on first use, not at activation. Secrets never reach them: callers
 * log names, paths and outcomes only.
 */
export class Outputs implements vscode.Disposable {
  private readonly made = new Map<string, vscode.LogOutputChannel>();

  private channel(name: string): vscode.LogOutputChannel {
    let c = this.made.get(name);
    if (!c) {
      c = vscode.window.createOutputChannel(name, { log: true });
      this.made.set(name, c);
    }
    return c;
  }

  get farm(): vscode.LogOutputChannel { return this.channel('iPXE Farm'); }
  get nginx(): vscode.LogOutputChannel { return this.channel('iPXE Farm: nginx'); }
  get boot(): vscode.LogOutputChannel { return this.channel('iPXE Farm: boot service'); }
  get build(): vscode.LogOutputChannel { return this.channel('iPXE Farm: build'); }

  dispose(): void {
    for (const c of this.made.values()) c.dispose();
  }
}
