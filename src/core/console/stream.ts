/**
 * One contract for a board's serial console, whatever carries it (a console server over TCP, a local serial device,
 * QEMU's own port). It keeps trying while the board or the server is away, and says so through onState, so a
 * person and the boot verdict both learn why nothing arrives.
 */
export type ConsoleState = 'connecting' | 'connected' | 'waiting' | 'closed';

export interface ConsoleStream {
  readonly describe: string;
  onData(listener: (data: string) => void): () => void;
  /** Each change, with one sentence that says why (a missing device, a busy port, a server that dropped). */
  onState(listener: (state: ConsoleState, why: string) => void): () => void;
  write(input: string | Buffer): void;
  /** Resolves once connected the first time; rejects with the sentence when the console cannot be used at all. */
  ready(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Listener sets and the reconnect delay that both real drivers share. */
export class ConsoleEvents {
  private data = new Set<(d: string) => void>();
  private state = new Set<(s: ConsoleState, why: string) => void>();
  current: ConsoleState = 'connecting';
  lastWhy = '';
  connectedOnce = false;
  private readyWaiters: Array<() => void> = [];

  onData(l: (d: string) => void): () => void { this.data.add(l); return () => this.data.delete(l); }
  /** A late listener first hears the state as it is now (a console may connect, or fail, before anyone listens). */
  onState(l: (s: ConsoleState, why: string) => void): () => void {
    this.state.add(l);
    if (this.lastWhy) l(this.current, this.lastWhy);
    return () => this.state.delete(l);
  }
  emitData(d: string): void { for (const l of this.data) l(d); }
  setState(s: ConsoleState, why: string): void {
    if (s === this.current && why === this.lastWhy) return;
    this.current = s;
    this.lastWhy = why;
    if (s === 'connected') { this.connectedOnce = true; for (const w of this.readyWaiters.splice(0)) w(); }
    for (const l of this.state) l(s, why);
  }
  ready(timeoutMs: number, describe: string): Promise<void> {
    if (this.current === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${describe}: not connected after ${Math.round(timeoutMs / 1000)} s (${this.lastWhy || 'no answer'}).`)), timeoutMs);
      this.readyWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }
}

/** 100 ms, doubling to 1 s: a console server that restarts is back within a second of it listening again. */
export function retryDelay(attempt: number): number {
  return Math.min(1000, 100 * 2 ** Math.min(attempt, 4));
}
