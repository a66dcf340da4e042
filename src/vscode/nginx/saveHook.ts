import * as vscode from 'vscode';
import * as path from 'node:path';
import { describeError } from '../../core/errors';
import { createNginxRuntime, effectiveRuntimeKind } from '../../core/nginx/createRuntime';
import { LocalNginxRuntime } from '../../core/nginx/localRuntime';
import type { NginxDiagnostic } from '../../core/nginx/diagnostics';
import type { NginxRuntime, NginxTestResult } from '../../core/nginx/runtime';
import { loadFarm } from '../../core/farm/load';
import type { Outputs } from '../output';
import type { ServerStatus } from '../serverStatus';
import { settings } from '../settings';

export async function runtimeFor(root: string): Promise<NginxRuntime> {
  const { farm, layout } = await loadFarm(root);
  const kind = effectiveRuntimeKind(farm);
  // The local runtime takes the nginx binary from the ipxeFarm.nginxPath setting; podman is found on PATH.
  if (kind === 'local') return new LocalNginxRuntime({ ...farm, nginx: { ...farm.nginx, runtime: 'local' } }, layout, { nginx: settings().nginxPath });
  return createNginxRuntime(farm, layout, kind);
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
 * Save an nginx file → `nginx -t` → problems in the Problems panel, or (when clean and nginx is running) a reload.
 * A broken config is never reloaded: the running nginx keeps serving the last good one. Saves in a burst share one run.
 */
export class NginxSaveHook implements vscode.Disposable {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('ipxe-farm-nginx');
  private readonly subs: vscode.Disposable[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private readonly done = new vscode.EventEmitter<{ test: NginxTestResult; reloaded: boolean }>();
  /** Fires after each save-triggered check (tests wait on it). */
  readonly onDidCheck = this.done.event;

  constructor(private readonly root: () => string | undefined, private readonly out: Outputs, private readonly status: ServerStatus) {
    this.subs.push(vscode.workspace.onDidSaveTextDocument((doc) => {
      const r = this.root();
      // Untrusted workspace: nginx is a program run on the workspace's config, so the save hook stays off.
      if (!r || !settings().reloadOnSave || !vscode.workspace.isTrusted) return;
      const nginxDir = path.join(r, 'nginx') + path.sep;
      if (!doc.uri.fsPath.startsWith(nginxDir)) return;
      this.chain = this.chain.then(() => this.check(r, doc.uri.fsPath)).catch(() => undefined);
    }));
  }

  async check(root: string, saved?: string): Promise<{ test: NginxTestResult; reloaded: boolean } | undefined> {
    try {
      const runtime = await runtimeFor(root);
      const test = await runtime.test();
      showNginxDiagnostics(this.diagnostics, test.diagnostics);
      this.out.nginx.info(`nginx -t after saving ${saved ? path.relative(root, saved) : 'the config'}: ${test.ok ? 'ok' : 'FAILED'} (${Math.round(test.durationMs)} ms)`);
      if (!test.ok) {
        this.out.nginx.warn(test.output.trim());
        this.status.setNginx('config-error', `${test.diagnostics.filter((d) => d.severity === 'error').length} problem(s); running config kept`);
        const r = { test, reloaded: false };
        this.done.fire(r);
        return r;
      }
      const st = await runtime.status();
      let reloaded = false;
      if (st.state === 'running') {
        this.status.setNginx('reloading');
        const rr = await runtime.reload();
        reloaded = rr.ok;
        this.out.nginx.info(`nginx reloaded (${Math.round(rr.durationMs)} ms)`);
        this.status.setNginx('running', 'reloaded on save');
      } else {
        this.status.setNginx(st.state, 'config ok');
      }
      const r = { test, reloaded };
      this.done.fire(r);
      return r;
    } catch (err) {
      this.out.nginx.error(`save hook: ${describeError(err)}`);
      return undefined;
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.diagnostics.dispose();
    this.done.dispose();
  }
}
