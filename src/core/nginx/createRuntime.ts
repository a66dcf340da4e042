import { type FarmLayout, type NginxRuntimeKind, type FarmHandle, clearRunRecord, readRunRecord, writeRunRecord } from '../farm/light';
import { FarmError } from '../errors';
import { requireNginxConfig } from './requireConfig';
import { LocalNginxRuntime } from './localRuntime';
import { PodmanNginxRuntime } from './podmanRuntime';
import type { LogSink, NginxRuntime, NginxStatus } from './runtime';

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
 * The opened farm's nginx runtime: without `kind`, the one it resolved (the nginx running now, by its run record, else
 * the farm file's choice, local when podman is absent but nginx is there); program paths from the handle.
 */
export function createNginxRuntime(h: FarmHandle, kind: NginxRuntimeKind = h.runtime.kind): NginxRuntime {
  const { farm, layout, programs } = h;
  const make = (k: NginxRuntimeKind): NginxRuntime => (k === 'podman'
    ? new PodmanNginxRuntime(farm, layout, { podman: programs.podman })
    : new LocalNginxRuntime(farm, layout, { nginx: programs.nginx }));
  return new RecordedRuntime(make(kind), layout, make);
}
