import { FarmError } from '../errors';
import type { Client } from '../farm/light';

/**
 * One contract for every way a board's power is switched; the CLI, the boot verdict and the editor hold only this.
 * Every method either does what it says or throws a FarmError whose sentence says what state the board is left in.
 */
export type PowerState = 'on' | 'off' | 'unknown';
export type PowerAction = 'on' | 'off' | 'cycle';

export interface PowerControl {
  /** The driver and where it reaches, for messages: "pdudaemon 127.0.0.1:16421 pdu1/3". */
  readonly describe: string;
  on(signal?: AbortSignal): Promise<void>;
  off(signal?: AbortSignal): Promise<void>;
  /** Off, then on. A failure after the off says the board is left off; before it, that its state is unknown. */
  cycle(signal?: AbortSignal): Promise<void>;
  /** What the driver can read back; drivers that cannot (a PDU) say 'unknown'. */
  status(signal?: AbortSignal): Promise<PowerState>;
}

/** The client values a command's arguments may name: never secrets (arguments show in ps). */
export interface ClientValues {
  name: string;
  client: Client;
}

/** Off then on through two calls, with a sentence for each way it can stop halfway. */
export async function cycleByOffOn(ctl: Pick<PowerControl, 'on' | 'off'>, client: string, signal?: AbortSignal, pauseMs = 0): Promise<void> {
  await ctl.off(signal);
  if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  try {
    await ctl.on(signal);
  } catch (err) {
    const e = err as FarmError;
    throw new FarmError(`${e.message.replace(/\.$/, '')}; the power cycle of ${client} stopped after switching it off, so ${client} is left OFF.`, e.fix, e.code);
  }
}
