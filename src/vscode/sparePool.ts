import * as vscode from 'vscode';
import type { Outputs } from './output';
import type { FarmState } from './state';

/** Long enough that a burst of edits or issuances settles first; the keys are made while the developer reads. */
const IDLE_MS = 4000;

/**
 * Keeps the farm's spare-key pool full while the editor is idle, so Issue Client Certificate never waits for RSA key
 * generation. Only in a trusted workspace and only once the farm has a CA; stops starting keys when the farm changes
 * again or the window closes. core's fillKeyPool is loaded on first use, not at activation.
 */
export class SparePoolFiller implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private running: AbortController | undefined;
  private readonly subs: vscode.Disposable[];
  /** Farm and next serial when last scheduled: only an issuance (the serial moves) can take a spare. */
  private seen: string | undefined;

  constructor(private readonly state: FarmState, private readonly out: Outputs) {
    // Boot events and tree refreshes change the state too; they never use a spare, so they do not restart a fill.
    this.subs = [
      state.onDidChange(() => { if (this.generation() !== this.seen) this.schedule(); }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.schedule()),
    ];
  }

  private generation(): string | undefined {
    const snap = this.state.snapshot;
    return snap ? `${snap.root}\0${snap.index.nextSerial}` : undefined;
  }

  schedule(): void {
    this.seen = this.generation();
    this.running?.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; void this.fill(); }, IDLE_MS);
  }

  private async fill(): Promise<void> {
    // The snapshot's opened farm: a farm file that cannot be used has no pool to fill until it is fixed.
    const opened = this.state.snapshot?.loaded;
    if (!opened || !vscode.workspace.isTrusted) return;
    const { hasCa, fillKeyPool } = await import('./sparePoolCore');
    if (!(await hasCa(opened))) return;
    const run = new AbortController();
    this.running = run;
    try {
      const st = await fillKeyPool(opened, { signal: run.signal });
      if (st.added) this.out.farm.info(`Spare-key pool: made ${st.added} key(s) ahead, ${st.count} ready.`);
    } catch (err) {
      this.out.farm.warn(`Spare-key pool not filled: ${(err as Error).message}`);
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  dispose(): void {
    this.running?.abort();
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.subs) d.dispose();
  }
}
