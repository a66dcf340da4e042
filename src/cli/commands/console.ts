import * as tty from 'node:tty';
import { openFarm } from '../../core/farm';
import { openConsole } from '../../core/console';
import { ConsoleRecorder, consoleLogFile } from '../../core/console';
import { readSecrets } from '../../core/secrets';
import type { CliCommand } from '../framework';
import { exactlyOne, patternOption, secondsOption } from '../args';

const ESCAPE = '\x1d'; // Ctrl-]

export const consoleCommands: CliCommand[] = [
  {
    name: 'console',
    args: 'CLIENT',
    summary: 'Attach to a real board\'s serial console (serial device or console server); Ctrl-] quits.',
    options: {
      log: { type: 'string', description: 'also keep the log in this file (default: .ipxe-farm/console/CLIENT-TIME.log, 0600)' },
      until: { type: 'string', description: 'stop when the console shows this regular expression (scripts)' },
      timeout: { type: 'string', description: 'stop after this many seconds (scripts)' },
    },
    details: `
The "console" section of the client says where: serial (a local device and baud rate) or tcp (a console server such
as ser2net, raw or telnet). Keys you type reach the board; Ctrl-] quits. Secrets of the farm are masked on screen and
in the log, iPXE error codes are explained right under their line, and the console reconnects by itself when the
board or the console server goes away (it says why while it waits).`,
    async run(ctx, args, o) {
      const client = exactlyOne(args, 'console', 'CLIENT', 'ipxe-farm console rack1');
      const timeout = secondsOption(o.timeout, '--timeout');
      const until = patternOption(o.until, '--until');
      const root = await ctx.farmRoot();
      const { farm } = await openFarm(root);
      const rec = new ConsoleRecorder(await consoleLogFile(root, client, o.log as string | undefined), await readSecrets(root));
      const stream = openConsole(farm, client);
      // Only a terminal is read: touching process.stdin when it is a pipe would keep a scripted run alive.
      const interactive = tty.isatty(0) && !until && timeout === undefined;
      const stdin = interactive ? process.stdin : undefined;
      ctx.info(`${stream.describe}; log: ${rec.logFile}${interactive ? '; Ctrl-] quits' : ''}`);
      return await new Promise<number>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = async (code: number) => {
          clearTimeout(timer);
          stream.close();
          if (stdin) { stdin.setRawMode(false); stdin.pause(); stdin.off('data', onKey); }
          process.stdout.write(await rec.close());
          resolve(code);
        };
        const onKey = (d: Buffer) => { if (d.includes(ESCAPE)) void finish(0); else stream.write(d); };
        stream.onData((d) => {
          process.stdout.write(rec.feed(d));
          if (until && until.test(rec.tracker.plain.slice(-4096))) void finish(0);
        });
        stream.onState((s, why) => { if (s !== 'closed') ctx.info(rec.note(`${s}: ${why}`).trim()); });
        if (stdin) { stdin.setRawMode(true); stdin.on('data', onKey); stdin.resume(); }
        if (timeout !== undefined) timer = setTimeout(() => { ctx.info(`Stopped after ${timeout} s.`); void finish(until ? 1 : 0); }, timeout * 1000);
        ctx.signal.addEventListener('abort', () => void finish(130), { once: true });
      });
    },
  },
];
