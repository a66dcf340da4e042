import { openConsole, isQemuConsole, type ConsoleStream } from '../console';
import { ConsoleRecorder, consoleLogFile } from '../console/light';
import { FarmError } from '../errors';
import type { FarmHandle } from '../farm/light';
import { isQemuPowered, powerFor, requireClient } from '../power';
import { clientLaunchOptions, type ClientBootOptions, launchQemu, type QemuHandle } from '../qemu';
import { readSecrets } from '../secrets/light';
import { BootFollower, type BootVerdict, type VerdictStages } from './follow';

export type { BootVerdict };
import { recordVerdict } from './health';

/**
 * `ipxe-farm boot CLIENT` and ▶: switch the machine on (a board: its power driver's cycle; a QEMU client: start QEMU),
 * follow its console and the boot service's events, and end with one verdict, recorded for the farm's boot health.
 */
export const DEFAULT_MARKER = /IPXE-FARM-LINUX-UP|login: ?$/m;

export interface BootVerdictOptions {
  until?: RegExp;
  timeoutMs: number;
  signal?: AbortSignal;
  /** What a person should see of the console now (secrets masked, iPXE errors explained). */
  onOutput?(text: string): void;
  /** One-line notes: power switched, console waiting and why. */
  onNote?(line: string): void;
  /** Keys a person types, to the machine: called once its console is attached (the editor's terminal). */
  onConsole?(write: (input: string) => void): void;
  /** QEMU clients: the image and variable store to boot (defaults as `ipxe-farm qemu`). */
  qemu?: ClientBootOptions;
  /** Keep the verdict out of the health record (benchmarks that time one stage). */
  record?: boolean;
  /** Stop once this stage is reached, with a PASS (benchmarks). */
  stopAtStage?: keyof VerdictStages;
}

export async function bootVerdict(h: FarmHandle, client: string, opts: BootVerdictOptions): Promise<BootVerdict> {
  const { farm, root } = h;
  requireClient(farm, client);
  const qemuPower = isQemuPowered(farm, client);
  if (qemuPower !== isQemuConsole(farm, client)) {
    throw new FarmError(`${client} mixes a QEMU ${qemuPower ? 'power' : 'console'} with a real board's ${qemuPower ? 'console' : 'power'}.`, `Give /clients/${client} both a "power" and a "console" section, or neither.`, 'ECLIENT');
  }
  const secrets = await readSecrets(root);
  const marker = opts.until ?? DEFAULT_MARKER;
  const startedAt = new Date();
  const t0 = startedAt.getTime();
  const rec = new ConsoleRecorder(await consoleLogFile(root, client), secrets, marker);
  const follower = new BootFollower(root, client, t0, rec.tracker);
  const note = (l: string) => { opts.onNote?.(l); rec.note(l); };
  const show = (d: string) => { const s = rec.feed(d); if (s) opts.onOutput?.(s); };
  let ended = false;
  let qemu: QemuHandle | undefined;
  let console: ConsoleStream | undefined;
  let via: BootVerdict['via'];
  try {
    if (qemuPower) {
      const launch = await clientLaunchOptions(h, client, opts.qemu);
      follower.poweredAt = Date.now();
      qemu = await launchQemu({ ...launch, signal: opts.signal, redact: Object.values(secrets), headless: { timeoutMs: opts.timeoutMs + 5000 } });
      qemu.onData(show);
      const q = qemu;
      opts.onConsole?.((input) => q.write(input));
      void qemu.done.then(() => { ended = true; });
      follower.stages.powered = Date.now() - t0;
      follower.stages.consoleUp = follower.stages.powered;
      via = { power: `QEMU (${qemu.accel})`, console: 'QEMU serial' };
    } else {
      const power = await powerFor(root, farm, client);
      console = openConsole(farm, client);
      via = { power: power.describe, console: console.describe };
      console.onData(show);
      const con = console;
      opts.onConsole?.((input) => con.write(input));
      console.onState((s, why) => {
        if (s === 'connected') follower.stages.consoleUp ??= Date.now() - t0;
        if (s !== 'closed') note(`console ${s}: ${why}`);
      });
      // The console is attached before the power cycle so the first words of the boot are not lost: wait for the
      // console server's first answer (connected, or "no device yet" while the board is off), at most 3 s.
      const answered = console;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 3000);
        const off = answered.onState((st) => { if (st !== 'connecting') { clearTimeout(t); queueMicrotask(() => off()); resolve(); } });
      });
      note(`power cycle via ${power.describe}`);
      await power.cycle(opts.signal);
      follower.poweredAt = Date.now();
      follower.stages.powered = follower.poweredAt - t0;
    }
    let decision;
    for (;;) {
      if (opts.signal?.aborted) throw new FarmError(`The boot of ${client} was cancelled.`, undefined, 'ECANCELED');
      await follower.pollEvents();
      const now = Date.now();
      if (opts.stopAtStage && follower.stages[opts.stopAtStage] !== undefined) { decision = { outcome: 'pass' as const, reason: `reached ${opts.stopAtStage}` }; break; }
      decision = follower.decide(now, ended, now - t0 >= opts.timeoutMs, opts.timeoutMs);
      if (decision) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const verdict: BootVerdict = {
      client, outcome: decision.outcome, reason: decision.reason, refusal: 'refusal' in decision ? decision.refusal : undefined,
      stages: { ...follower.stages }, startedAt: startedAt.toISOString(), elapsedMs: Date.now() - t0, via, logFile: rec.logFile,
    };
    note(`${verdict.outcome === 'pass' ? 'PASS' : 'FAIL'}: ${verdict.reason}`);
    if (opts.record !== false) await recordVerdict(root, verdict);
    return verdict;
  } finally {
    qemu?.kill();
    console?.close();
    const rest = await rec.close();
    if (rest) opts.onOutput?.(rest);
  }
}
