import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { FarmError, UsageError } from '../core/errors';
import { findFarmRoot } from '../core/farm';

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean; description: string };

export interface CliContext {
  /** The farm folder: --farm, else the nearest ipxe-farm.json above the working directory. */
  farmRoot(): Promise<string>;
  json: boolean;
  cwd: string;
  out(text: string): void;
  /** Machine-readable answer for --json. */
  outJson(value: unknown): void;
  /** Progress and warnings: stderr, so stdout stays clean for pipes. */
  info(text: string): void;
  /** All of stdin (secrets are read this way, never from arguments). */
  readStdin(): Promise<string>;
  signal: AbortSignal;
}

export interface CliCommand {
  /** Words that select the command, e.g. "ca init", "issue client". */
  name: string;
  summary: string;
  /** Positional arguments, e.g. "NAME [DIR]". */
  args?: string;
  options?: Record<string, OptionSpec>;
  /** Longer help: examples, what it writes. */
  details?: string;
  run(ctx: CliContext, positionals: string[], options: Record<string, unknown>): Promise<number | void>;
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  farm: { type: 'string', description: 'farm folder (default: the nearest ipxe-farm.json above the current folder)' },
  json: { type: 'boolean', description: 'print a machine-readable JSON answer' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

export function commandHelp(cmd: CliCommand): string {
  const opts = { ...(cmd.options ?? {}), ...GLOBAL_OPTIONS };
  const lines = [`Usage: ipxe-farm ${cmd.name}${cmd.args ? ` ${cmd.args}` : ''} [options]`, '', cmd.summary];
  if (cmd.details) lines.push('', cmd.details.trim());
  lines.push('', 'Options:');
  for (const [k, o] of Object.entries(opts)) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ' VALUE' : ''}`;
    lines.push(`  ${flag.padEnd(28)} ${o.description}`);
  }
  return lines.join('\n');
}

export function generalHelp(commands: CliCommand[]): string {
  const width = Math.max(...commands.map((c) => `${c.name}${c.args ? ` ${c.args}` : ''}`.length)) + 2;
  return [
    'iPXE Farm: a private CA, mutual-TLS nginx, a per-machine boot service, iPXE images and QEMU test boots.',
    '',
    'Usage: ipxe-farm COMMAND [ARGS] [--farm DIR] [--json]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${`${c.name}${c.args ? ` ${c.args}` : ''}`.padEnd(width)} ${c.summary}`),
    '',
    'Run `ipxe-farm COMMAND --help` for its options. Exit codes: 0 ok, 1 failed, 2 usage.',
  ].join('\n');
}

/** The command whose name is the longest prefix of the positional words. */
export function matchCommand(commands: CliCommand[], words: string[]): { cmd?: CliCommand; rest: string[] } {
  let best: CliCommand | undefined;
  let bestLen = 0;
  for (const c of commands) {
    const parts = c.name.split(' ');
    if (parts.length > bestLen && parts.every((p, i) => words[i] === p)) { best = c; bestLen = parts.length; }
  }
  return { cmd: best, rest: words.slice(bestLen) };
}

export function parseCommandLine(commands: CliCommand[], argv: string[]) {
  // First pass only finds the command: every known option is declared so that option values are not taken for words.
  const all: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const c of commands) Object.assign(all, c.options ?? {});
  const loose = parseArgs({ args: argv, options: all, allowPositionals: true, strict: false });
  const { cmd } = matchCommand(commands, loose.positionals);
  const options = { ...(cmd?.options ?? {}), ...GLOBAL_OPTIONS };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\.$/, '')}.`, cmd ? `See \`ipxe-farm ${cmd.name} --help\`.` : 'See `ipxe-farm --help`.');
  }
  const { rest } = matchCommand(commands, parsed.positionals);
  return { cmd, positionals: rest, values: parsed.values as Record<string, unknown> };
}

export function makeContext(values: Record<string, unknown>, signal: AbortSignal): CliContext {
  const cwd = process.cwd();
  const json = values.json === true;
  return {
    json,
    cwd,
    signal,
    async farmRoot() {
      if (typeof values.farm === 'string') return path.resolve(cwd, values.farm);
      const found = await findFarmRoot(cwd);
      if (!found) throw new FarmError(`No ipxe-farm.json in ${cwd} or any folder above it.`, 'Run `ipxe-farm init`, or pass --farm DIR.', 'ENOFARM');
      return found;
    },
    out: (text) => { process.stdout.write(text.endsWith('\n') ? text : `${text}\n`); },
    outJson: (value) => { process.stdout.write(`${JSON.stringify(value, null, 2)}\n`); },
    info: (text) => { process.stderr.write(text.endsWith('\n') ? text : `${text}\n`); },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
