#!/usr/bin/env node
import { describeError, FarmError, UsageError } from '../core/errors';
import { commandHelp, generalHelp, makeContext, parseCommandLine } from './framework';

export async function main(argv: string[]): Promise<number> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  // `on`, not `once`: execa's signal-exit re-raises a signal when it sees no other listener left, which would kill the
  // CLI before a cancelled command could stop what it started (nginx, the boot service, QEMU).
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // The boot service runs as long as the farm does: it is started without loading every other command's code.
    const commands = argv[0] === 'serve' ? (await import('./commands/serve')).serveCommands : (await import('./commands')).allCommands;
    const { cmd, positionals, values } = parseCommandLine(commands, argv);
    if (!cmd) {
      if (values.help || argv.length === 0) { process.stdout.write(`${generalHelp(commands)}\n`); return argv.length === 0 ? 2 : 0; }
      const words = argv.filter((a) => !a.startsWith('-')).join(' ');
      throw new UsageError(`Unknown command "${words}".`, 'Run `ipxe-farm --help` to list the commands.');
    }
    if (values.help) { process.stdout.write(`${commandHelp(cmd)}\n`); return 0; }
    const code = await cmd.run(makeContext(values, abort.signal), positionals, values);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    const json = argv.includes('--json');
    const usage = err instanceof UsageError;
    if (json) {
      process.stdout.write(`${JSON.stringify({ error: describeError(err), code: err instanceof FarmError ? err.code : 'EINTERNAL' })}\n`);
    }
    process.stderr.write(`ipxe-farm: ${describeError(err)}\n`);
    if (!(err instanceof FarmError) && process.env.IPXE_FARM_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return usage ? 2 : 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
