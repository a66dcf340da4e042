import * as path from 'node:path';
import { describeError } from '../errors';
import type { FarmLayout } from '../farm/light';
import { pkiPaths } from '../pki/light';
import type { NginxDiagnostic } from './diagnostics';
import type { NginxRuntime, NginxState } from './runtime';

export interface ReloadOutcome {
  /** The saved files this run covers (a burst of saves is one run). */
  files: string[];
  ok: boolean;
  reloaded: boolean;
  /** The complete current set: show these, and clear every nginx diagnostic not among them. */
  diagnostics: NginxDiagnostic[];
  state: NginxState;
  /** podman/nginx itself failed (not the config): one sentence for a notification. */
  error?: string;
  /** Milliseconds from the first save of the burst to the end of test (+ reload). */
  latencyMs: number;
}

export interface ReloadOnSaveOptions {
  /**
   * Gathering time after the first save of a burst before testing (not reset by later saves, so a steady stream of
   * saves cannot postpone the test forever); saves in that time, or during the run, join the next run.
   */
  delayMs?: number;
  onOutcome?: (o: ReloadOutcome) => void;
}

/**
 * What happens when a file under nginx/ (or the CA, CRL or server certificate it reads) is saved: after a short gathering
 * time, `nginx -t`; on success a reload, on failure no reload (the old config keeps serving) and diagnostics.
 * Saves that arrive while a run is in flight are gathered into one more run afterwards, never run concurrently.
 * The CLI's `nginx watch` feeds it from fs.watch, the editor from onDidSaveTextDocument.
 */
export class ReloadOnSave {
  private readonly delayMs: number;
  private pending: string[] = [];
  private firstSaveAt = 0;
  private waiters: Array<(o: ReloadOutcome) => void> = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private disposed = false;
  private warmed = false;
  private readonly watched: string[];

  constructor(private readonly runtime: NginxRuntime, private readonly layout: FarmLayout, private readonly opts: ReloadOnSaveOptions = {}) {
    this.delayMs = opts.delayMs ?? 10;
    const pki = pkiPaths(layout);
    this.watched = [pki.caCert, pki.crlPem, pki.serverChain, pki.serverKey];
  }

  /** Does saving this file change what nginx serves? (Editor temp files and backups do not.) */
  isRelevant(file: string): boolean {
    const abs = path.resolve(file);
    if (this.watched.includes(abs)) return true;
    const rel = path.relative(this.layout.nginx, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return false;
    const base = path.basename(abs);
    return !base.startsWith('.') && !base.endsWith('~') && !/\.(swp|swx|tmp|bak|orig)$/.test(base);
  }

  /** A file was saved. Resolves with the outcome of the run that covers it; undefined when the file is not relevant. */
  saved(file: string): Promise<ReloadOutcome> | undefined {
    if (this.disposed || !this.isRelevant(file)) return undefined;
    const abs = path.resolve(file);
    if (!this.pending.includes(abs)) this.pending.push(abs);
    if (!this.firstSaveAt) this.firstSaveAt = performance.now();
    const p = new Promise<ReloadOutcome>((resolve) => this.waiters.push(resolve));
    if (!this.timer && !this.running) this.timer = setTimeout(() => { this.timer = undefined; void this.kick(); }, this.delayMs);
    return p;
  }

  private async kick(): Promise<void> {
    if (this.running) return; // the loop below picks the new saves up when the current run ends
    this.running = (async () => {
      while (this.pending.length && !this.timer && !this.disposed) {
        const files = this.pending;
        const waiters = this.waiters;
        const since = this.firstSaveAt;
        this.pending = [];
        this.waiters = [];
        this.firstSaveAt = 0;
        if (!this.warmed) { this.warmed = true; await this.runtime.warm?.().catch(() => undefined); }
        const outcome = await this.once(files, since);
        for (const w of waiters) w(outcome);
        this.opts.onOutcome?.(outcome);
      }
    })();
    try { await this.running; } finally { this.running = undefined; }
    // A save may have landed between the loop's last check and clearing `running`.
    if (this.pending.length && !this.timer && !this.disposed) void this.kick();
  }

  private async once(files: string[], since: number): Promise<ReloadOutcome> {
    try {
      const r = await this.runtime.reload();
      const state: NginxState = !r.ok ? 'config-error' : r.running ? 'running' : 'stopped';
      return { files, ok: r.ok, reloaded: r.reloaded, diagnostics: r.diagnostics, state, latencyMs: performance.now() - since };
    } catch (err) {
      return { files, ok: false, reloaded: false, diagnostics: [], state: 'stopped', error: describeError(err), latencyMs: performance.now() - since };
    }
  }

  /** Wait for whatever is scheduled or in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.timer || this.running || this.pending.length) {
      if (this.running) await this.running.catch(() => undefined);
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.warmed) this.runtime.cool?.();
    if (this.timer) clearTimeout(this.timer);
    const outcome: ReloadOutcome = { files: this.pending, ok: false, reloaded: false, diagnostics: [], state: 'stopped', error: 'The save watcher was stopped.', latencyMs: 0 };
    for (const w of this.waiters) w(outcome);
    this.waiters = [];
    this.pending = [];
  }
}
