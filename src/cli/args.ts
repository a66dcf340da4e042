import { UsageError } from '../core/errors';

/**
 * Checks on a command's words and option values that several commands share, so that each is read by one rule and
 * refused with one sentence (a usage error, exit 2).
 */

/** The one word a command takes (CLIENT, NAME, DIR). */
export function exactlyOne(args: string[], cmd: string, what: string, example?: string): string {
  if (args.length !== 1) throw new UsageError(`${cmd} takes exactly one ${what}.`, example ? `Example: ${example}` : `See \`ipxe-farm ${cmd} --help\`.`);
  return args[0]!;
}

const DAY = 24 * 3600;

/** A number of seconds, e.g. --timeout: more than 0 and at most a day; undefined when the option is not given. */
export function secondsOption(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > DAY) {
    throw new UsageError(`${flag} ${String(value)} is not a number of seconds (more than 0, at most ${DAY}).`, `Give e.g. ${flag} 120.`);
  }
  return n;
}

/** A regular expression, e.g. --until (the marker a watched console stops on); undefined when not given or empty. */
export function patternOption(value: unknown, flag: string, flags?: string): RegExp | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  try {
    return new RegExp(value, flags);
  } catch (err) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a valid regular expression (${(err as Error).message}).`, `Quote it for the shell, e.g. ${flag} 'login:'.`);
  }
}

/** --efi, --image and --vars of the commands that boot a QEMU client; undefined when none is given. */
export function qemuImageOptions(o: Record<string, unknown>) {
  if (o.efi === undefined && o.image === undefined && o.vars === undefined) return undefined;
  return { efi: o.efi === true ? true : undefined, image: o.image as string | undefined, efiVars: o.vars as string | undefined };
}
