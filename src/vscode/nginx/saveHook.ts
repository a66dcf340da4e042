import * as vscode from 'vscode';
import * as path from 'node:path';
import { describeError } from '../../core/errors';
import type { NginxDiagnostic } from '../../core/nginx/light';
import type { NginxRuntime } from '../../core/nginx/light';
import type { ReloadOnSave, ReloadOutcome } from '../../core/nginx/light';
import { openFarm, type FarmHandle } from '../../core/farm/light';
import type { Outputs } from '../output';
import type { ServerStatus } from '../serverStatus';
import { editorPrograms, settings } from '../settings';

/** The opened farm's nginx (the one it resolved: running first), loaded when first needed: the runtimes bring execa. */
export async function runtimeFor(h: FarmHandle): Promise<NginxRuntime> {
  const { createNginxRuntime } = await import('../../core/nginx');
  return createNginxRuntime(h);
}

/** nginx -t problems in the Problems panel, on the workspace files they belong to. */
export function showNginxDiagnostics(collection: vscode.DiagnosticCollection, diags: NginxDiagnostic[]): void {
  collection.clear();
  const byFile = new Map<string, vscode.Diagnostic[]>();
  for (const d of diags) {
    const line = Math.max(0, (d.line ?? 1) - 1);
    const diag = new vscode.Diagnostic(new vscode.Range(line, 0, line, 1000), d.message,
      d.severity === 'error' ? vscode.DiagnosticSeverity.Error : d.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information);
    diag.source = 'nginx -t';
    byFile.set(d.file, [...(byFile.get(d.file) ?? []), diag]);
  }
  for (const [file, list] of byFile) collection.set(vscode.Uri.file(file), list);
}

/**
 * Save an nginx file (or the CA, CRL, server certificate nginx reads) → core's ReloadOnSave: `nginx -t`, problems in
 * the Problems panel, and a reload only when the config is clean. A broken config is never reloaded: the running
 * nginx keeps serving the last good one. A burst of saves is one run.
 */
export class NginxSaveHook implements vscode.Disposable {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('ipxe-farm-nginx');
  private readonly subs: vscode.Disposable[] = [];
  private reloader: { root: string; farmText: string; r: ReloadOnSave } | undefined;
  private readonly done = new vscode.EventEmitter<ReloadOutcome>();
  /** Fires after each save-triggered run (tests wait on it). */
  readonly onDidCheck = this.done.event;

  constructor(private readonly root: () => string | undefined, private readonly out: Outputs, private readonly status: ServerStatus) {
    this.subs.push(vscode.workspace.onDidSaveTextDocument((doc) => void this.saved(doc.uri.fsPath)));
  }

  /**
   * The reloader for the farm as it is now: a save watcher, so it opens the farm again on every save and rebuilds the
   * reloader when the farm file or the nginx running it changed.
   */
  private async reloaderFor(root: string): Promise<ReloadOnSave> {
    const loaded = await openFarm(root, { programs: editorPrograms() });
    const key = `${loaded.runtime.kind}\0${loaded.text}`;
    if (this.reloader && this.reloader.root === root && this.reloader.farmText === key) return this.reloader.r;
    this.reloader?.r.dispose();
    const { ReloadOnSave: Reloader } = await import('../../core/nginx');
    const r = new Reloader(await runtimeFor(loaded), loaded.layout, { onOutcome: (o) => this.show(root, o) });
    this.reloader = { root, farmText: key, r };
    return r;
  }

  async saved(file: string): Promise<ReloadOutcome | undefined> {
    const r = this.root();
    // Untrusted workspace: nginx is a program run on the workspace's config, so the save hook stays off.
    if (!r || !settings().reloadOnSave || !vscode.workspace.isTrusted) return undefined;
    if (!file.startsWith(r + path.sep)) return undefined;
    try {
      const reloader = await this.reloaderFor(r);
      if (!reloader.isRelevant(file)) return undefined;
      this.status.setNginx('reloading');
      return await reloader.saved(file);
    } catch (err) {
      this.out.nginx.error(`save hook: ${describeError(err)}`);
      return undefined;
    }
  }

  private show(root: string, o: ReloadOutcome): void {
    showNginxDiagnostics(this.diagnostics, o.diagnostics);
    const files = o.files.map((f) => path.relative(root, f)).join(', ');
    if (o.error) {
      this.out.nginx.error(`after saving ${files}: ${o.error}`);
      this.status.setNginx('unknown', o.error);
    } else if (!o.ok) {
      this.out.nginx.warn(`after saving ${files}: nginx -t failed (${o.diagnostics.length} problem(s)); nginx was not reloaded`);
      this.status.setNginx('config-error', `${o.diagnostics.filter((d) => d.severity === 'error').length} problem(s); running config kept`);
    } else {
      this.out.nginx.info(`after saving ${files}: nginx -t ok${o.reloaded ? `, reloaded in ${Math.round(o.latencyMs)} ms` : ' (nginx not running: nothing to reload)'}`);
      this.status.setNginx(o.state, o.reloaded ? 'reloaded on save' : 'config ok');
    }
    this.done.fire(o);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.reloader?.r.dispose();
    this.diagnostics.dispose();
    this.done.dispose();
  }
}
