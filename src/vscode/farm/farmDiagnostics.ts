import * as path from 'node:path';
import * as vscode from 'vscode';
import { checkFarmWithBoot } from '../../core/boot/light';
import { FARM_FILE } from '../../core/farm/light';

/**
 * The farm's own checks in the Problems panel, beside the JSON schema's: boot mappings (missing secrets and files,
 * unsafe values) as errors, and what is allowed but risky — a {{secret.*}} on a kernel command line — as warnings.
 * The same checks as `ipxe-farm check`, on the editor's text as typed (debounced) and on open.
 */
export class FarmFileDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('ipxe-farm');
  private timers = new Map<string, NodeJS.Timeout>();
  private readonly subs: vscode.Disposable[];

  constructor() {
    this.subs = [
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, 300)),
      vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)),
    ];
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  private schedule(doc: vscode.TextDocument, delayMs: number): void {
    if (doc.uri.scheme !== 'file' || path.basename(doc.uri.fsPath) !== FARM_FILE) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => { this.timers.delete(key); void this.check(doc); }, delayMs));
  }

  async check(doc: vscode.TextDocument): Promise<vscode.Diagnostic[]> {
    const version = doc.version;
    let issues;
    try {
      issues = await checkFarmWithBoot(path.dirname(doc.uri.fsPath), doc.getText());
    } catch {
      return []; // an unreadable farm folder: the schema's diagnostics still show
    }
    if (doc.isClosed || doc.version !== version) return [];
    const diags = issues.map((i) => {
      const d = new vscode.Diagnostic(new vscode.Range(i.at.line, i.at.column, i.at.line, i.at.column + Math.max(1, i.at.length)), i.message,
        i.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      d.source = 'iPXE Farm';
      return d;
    });
    this.collection.set(doc.uri, diags);
    return diags;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const s of this.subs) s.dispose();
    this.collection.dispose();
  }
}
