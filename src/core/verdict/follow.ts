import { readBootEvents, type BootEvent, WHY_PATH } from '../boot/light';
import { SCRIPT_MARKERS, describeIpxeError, decodeIpxeError } from '../ipxe/light';
import type { BootStageTracker } from '../qemu/light';

/**
 * Reads one boot as it goes, from the two witnesses a farm has: the console (iPXE's and Linux's words) and the boot
 * service's events for that client (what it served or refused). Decides PASS once the marker is seen, FAIL with the
 * most telling reason it has: the farm's own words on the console (the /why.ipxe answer), the service's refusal, a
 * decoded iPXE error, or how far the boot got before the time ran out.
 */
export type Outcome = 'pass' | 'fail';

export interface VerdictStages {
  /** ms from the start of the verdict: power switched, console attached, then the boot's own stages. */
  powered?: number;
  consoleUp?: number;
  ipxeUp?: number;
  dhcpOk?: number;
  scriptServed?: number;
  kernelFetched?: number;
  marker?: number;
}

export const VERDICT_STAGE_LABELS: Record<keyof VerdictStages, string> = {
  powered: 'powered', consoleUp: 'console', ipxeUp: 'iPXE up', dhcpOk: 'DHCP ok', scriptServed: 'script served',
  kernelFetched: 'kernel fetched', marker: 'marker',
};

export function formatVerdictStages(s: VerdictStages): string {
  return (Object.keys(VERDICT_STAGE_LABELS) as (keyof VerdictStages)[])
    .filter((k) => s[k] !== undefined).map((k) => `${VERDICT_STAGE_LABELS[k]} ${(s[k]! / 1000).toFixed(1)} s`).join(' · ');
}

/** One boot's verdict as recorded and shown: the decision, how far the boot got, and through which power and console. */
export interface BootVerdict {
  client: string;
  outcome: Outcome;
  reason: string;
  /** The refusal's own words, when the farm refused the machine. */
  refusal?: string;
  stages: VerdictStages;
  startedAt: string;
  elapsedMs: number;
  via: { power: string; console: string };
  logFile: string;
}

export interface Decision { outcome: Outcome; reason: string; refusal?: string }

export class BootFollower {
  readonly stages: VerdictStages = {};
  readonly events: BootEvent[] = [];
  private firstErrorAt?: number;
  private refusedAt?: number;

  constructor(
    private readonly root: string,
    private readonly client: string,
    private readonly t0: number,
    private readonly tracker: BootStageTracker,
    private readonly graceMs = 8000,
  ) {}

  /**
   * When the machine was switched on (epoch ms): events before it belong to an earlier boot (a board still running
   * the last one, a verdict right after another) and are not this boot's.
   */
  poweredAt?: number;

  /** New boot-service events for this client since the machine was switched on. */
  async pollEvents(): Promise<void> {
    if (this.poweredAt === undefined) return;
    const since = new Date(this.poweredAt).toISOString();
    const mine = (await readBootEvents(this.root, 256 * 1024)).filter((e) => e.client === this.client && e.time >= since);
    this.events.splice(0, this.events.length, ...mine);
    const served = mine.find((e) => e.status === 200 && e.path.split('?')[0] !== WHY_PATH);
    if (served && this.stages.scriptServed === undefined) this.stages.scriptServed = Math.max(0, Date.parse(served.time) - this.t0);
  }

  private consoleStages(): void {
    // Console lines from before the power-on are the last boot's (a board that was still running): not this one's.
    if (this.poweredAt === undefined) return;
    const from = this.poweredAt - this.t0 - 500;
    const s = this.tracker.stages;
    const take = (v: number | undefined) => (v !== undefined && v >= from ? v : undefined);
    this.stages.ipxeUp ??= take(s.ipxeUp);
    this.stages.dhcpOk ??= take(s.dhcpOk);
    this.stages.scriptServed ??= take(s.scriptFetched);
    this.stages.kernelFetched ??= take(s.imagesLoaded);
    this.stages.marker ??= take(s.linuxMarker);
  }

  /** The farm's words from /why.ipxe, once their line is complete. */
  private consoleRefusal(): string | undefined {
    const text = this.tracker.plain;
    const i = text.lastIndexOf(SCRIPT_MARKERS.refused);
    if (i < 0) return undefined;
    const lines = text.slice(i).split('\n');
    return lines.length >= 3 && lines[1]!.trim() ? lines[1]!.trim() : undefined;
  }

  /** Undefined while the boot is still going. `ended`: the board (QEMU) stopped by itself. */
  decide(now: number, ended: boolean, timedOut: boolean, timeoutMs: number): Decision | undefined {
    this.consoleStages();
    if (this.stages.marker !== undefined) return { outcome: 'pass', reason: 'the boot reached its marker' };
    const said = this.consoleRefusal();
    const refused = [...this.events].reverse().find((e) => e.status >= 400 && e.reason);
    const errors = this.tracker.errors;
    if ((said || refused) && this.refusedAt === undefined) this.refusedAt = now;
    if (errors.length && this.firstErrorAt === undefined) this.firstErrorAt = now;
    const reasonNow = (): Decision => {
      const e = errors[0];
      const ipxe = e ? `iPXE ${e.code} on "${e.line.slice(0, 100)}": ${describeIpxeError(decodeIpxeError(e.code)).split('\n')[0]}` : undefined;
      if (said) return { outcome: 'fail', reason: `the farm refused this machine: ${said}${ipxe ? ` (${ipxe})` : ''}`, refusal: said };
      if (refused) return { outcome: 'fail', reason: `the boot service refused ${this.client}: ${refused.reason} (HTTP ${refused.status})${ipxe ? `; ${ipxe}` : ''}`, refusal: refused.reason };
      if (ipxe) return { outcome: 'fail', reason: ipxe };
      return {
        outcome: 'fail',
        reason: ended
          ? `${this.client} stopped (powered off or lost its console) before the marker; last stage: ${this.lastStage()}`
          : `no marker within ${Math.round(timeoutMs / 1000)} s; last stage: ${this.lastStage()}`,
      };
    };
    if (said && this.stages.marker === undefined) return reasonNow();
    if (ended || timedOut) return reasonNow();
    // The console explains a refusal after its error code (the /why.ipxe answer): give it a moment to arrive.
    const since = Math.min(this.refusedAt ?? Infinity, this.firstErrorAt ?? Infinity);
    if (now - since >= this.graceMs && !this.askingWhy()) return reasonNow();
    return undefined;
  }

  /**
   * The image has asked /why.ipxe after its error and neither the answer nor a new error has come: on a loaded TCG
   * host that TLS handshake alone can outlast the grace, and the farm's words are worth the wait (the boot's
   * time-out still bounds it).
   */
  private askingWhy(): boolean {
    const text = this.tracker.plain;
    const i = text.lastIndexOf(SCRIPT_MARKERS.askingWhy);
    if (i < 0) return false;
    const after = text.slice(i);
    return !after.includes(SCRIPT_MARKERS.refused) && !after.includes(SCRIPT_MARKERS.givingUp) && !/ipxe\.org\/[0-9a-f]{8}/i.test(after);
  }

  lastStage(): string {
    const reached = (Object.keys(VERDICT_STAGE_LABELS) as (keyof VerdictStages)[]).filter((k) => this.stages[k] !== undefined);
    return reached.length ? VERDICT_STAGE_LABELS[reached[reached.length - 1]!] : 'nothing (no console output)';
  }
}
