import type { FarmLayout } from '../farm/layout';
import type { Farm, NginxRuntimeKind } from '../farm/model';
import { loadFarm } from '../farm/load';
import { FarmError } from '../errors';
import { requireNginxConfig } from './requireConfig';
import { effectiveRuntimeKind } from './runtimeKind';
import { LocalNginxRuntime } from './localRuntime';
import { PodmanNginxRuntime } from './podmanRuntime';
import { clearRunRecord, readRunRecord, runtimeKindInUse, writeRunRecord } from './runRecord';
import type { LogSink, NginxRuntime, NginxStatus } from './runtime';

export { effectiveRuntimeKind, runtimeKindInUse };

/** Program paths a caller may override (the editor's machine-scoped settings). */
export interface NginxPrograms {
  nginx?: string;
  podman?: string;
}

/**
 * A runtime that records itself: `up` writes the farm's run record, `down` removes it, so every later call without an
 * explicit runtime reaches the nginx that is running. `up` refuses while another runtime's nginx of this farm runs:
 * both would want the same ports.
 */
class RecordedRuntime implements NginxRuntime {
  constructor(
    private readonly inner: NginxRuntime,
    private readonly layout: FarmLayout,
    private readonly other: (kind: NginxRuntimeKind) => NginxRuntime,
  ) {}

  get kind(): NginxRuntimeKind { return this.inner.kind; }

  async up(signal?: AbortSignal): Promise<NginxStatus> {
    const running = readRunRecord(this.layout);
    // A record left by a crash or a reboot names an nginx that is gone: it no longer holds the ports.
    const alive = running && running.kind !== this.kind
      ? (await this.other(running.kind).status(signal).catch(() => undefined))?.state === 'running'
      : false;
    if (running && running.kind !== this.kind && !alive) await clearRunRecord(this.layout);
    if (running && alive) {
      throw new FarmError(
        `This farm's nginx already runs in the ${running.kind} runtime (${running.where}), started ${running.startedAt}; a ${this.kind} nginx would need the same ports.`,
        `Stop it first with \`ipxe-farm nginx down\`, then start the ${this.kind} one.`,
        'EADDRINUSE',
      );
    }
    await requireNginxConfig(this.layout);
    const s = await this.inner.up(signal);
    await writeRunRecord(this.layout, { kind: this.kind, where: s.where, startedAt: new Date().toISOString() });
    return s;
  }

  async down(signal?: AbortSignal): Promise<NginxStatus> {
    const s = await this.inner.down(signal);
    if (readRunRecord(this.layout)?.kind === this.kind) await clearRunRecord(this.layout);
    return s;
  }

  status(signal?: AbortSignal) { return this.inner.status(signal); }
  async test(signal?: AbortSignal) { await requireNginxConfig(this.layout); return this.inner.test(signal); }
  async reload(signal?: AbortSignal) { await requireNginxConfig(this.layout); return this.inner.reload(signal); }
  logs(lines?: number, signal?: AbortSignal) { return this.inner.logs(lines, signal); }
  follow(sink: LogSink, signal?: AbortSignal) { return this.inner.follow(sink, signal); }
  async warm(): Promise<void> { await this.inner.warm?.(); }
  cool(): void { this.inner.cool?.(); }
}

/**
 * The farm's nginx runtime. Without `kind`: the one running now (its run record), else the farm file's choice (local
 * when podman is absent but nginx is there).
 */
export function createNginxRuntime(farm: Farm, layout: FarmLayout, kind: NginxRuntimeKind = runtimeKindInUse(farm, layout), programs: NginxPrograms = {}): NginxRuntime {
  const make = (k: NginxRuntimeKind): NginxRuntime => (k === 'podman'
    ? new PodmanNginxRuntime(farm, layout, { podman: programs.podman })
    : new LocalNginxRuntime(farm, layout, { nginx: programs.nginx }));
  return new RecordedRuntime(make(kind), layout, make);
}

export async function loadNginxRuntime(root: string, kind?: NginxRuntimeKind): Promise<NginxRuntime> {
  const { farm, layout } = await loadFarm(root);
  return createNginxRuntime(farm, layout, kind);
}
