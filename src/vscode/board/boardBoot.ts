import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import { describeIpxeError } from '../../core/ipxe';
import { bootVerdict, type BootVerdict } from '../../core/verdict';
import { formatVerdictStages } from '../../core/verdict';
import type { CommandContext } from '../commands/context';
import { BoardConsoleTerminal } from './boardTerminal';
import type { FarmHandle } from '../../core/farm';

export interface BoardBoot {
  terminal: vscode.Terminal;
  pty: BoardConsoleTerminal;
  /** Core's verdict, the same as `ipxe-farm boot CLIENT` gives; undefined when the boot could not run (said in a notification). */
  verdict: Promise<BootVerdict | undefined>;
}

/**
 * ▶ on a real board: core's boot verdict (power-cycle, console, boot events) with the console in a terminal, then
 * PASS/FAIL in a notification and the Clients tree's health refreshed. Returns at once; the verdict comes later.
 */
export function bootBoard(c: CommandContext, opened: FarmHandle, name: string, opts: { timeoutMs?: number } = {}): BoardBoot {
  const pty = new BoardConsoleTerminal(`$ ipxe-farm boot ${name}`);
  pty.onIpxeError((info) => {
    c.out.farm.warn(`${name}: iPXE error ${info.code}: ${info.message}`);
    void vscode.window.showWarningMessage(`${name}: ${describeIpxeError(info).split('\n').join(' ')}`);
  });
  const terminal = vscode.window.createTerminal({ name: `Board: ${name}`, pty, iconPath: new vscode.ThemeIcon('circuit-board') });
  terminal.show();
  const verdict = bootVerdict(opened, name, {
    timeoutMs: opts.timeoutMs ?? 300_000,
    signal: pty.signal,
    onOutput: (t) => pty.console(t),
    onNote: (l) => { pty.note(l); c.out.farm.info(`${name}: ${l}`); },
    onConsole: (write) => pty.attach(write),
  }).then((v) => {
    const pass = v.outcome === 'pass';
    const line = `${pass ? 'PASS' : 'FAIL'} ${name} in ${(v.elapsedMs / 1000).toFixed(1)} s: ${v.reason}`;
    const stages = formatVerdictStages(v.stages);
    pty.finish(`${line}${stages ? `\r\nStages: ${stages}` : ''}\r\nPower: ${v.via.power} · console: ${v.via.console} · log: ${v.logFile}`, pass);
    c.out.farm.info(`${line} (log ${v.logFile})`);
    if (pass) void vscode.window.showInformationMessage(line);
    else void vscode.window.showErrorMessage(line);
    return v;
  }, (err: unknown) => {
    const msg = describeError(err);
    pty.finish(msg, false);
    c.out.farm.error(`${name}: ${msg}`);
    if ((err as { code?: string }).code !== 'ECANCELED') void vscode.window.showErrorMessage(`${name}: ${msg}`);
    return undefined;
  }).finally(() => c.state.refresh().catch(() => undefined)) as Promise<BootVerdict | undefined>;
  return { terminal, pty, verdict };
}
