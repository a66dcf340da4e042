import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import * as dgram from 'node:dgram';
import { which } from './farm';
import { freePort } from './ports';

/**
 * The real board-farm daemons of Debian, started on 127.0.0.1 free ports for a test: pdudaemon (its localcmdline
 * driver switching a "board"), ipmi_sim (openipmi's BMC simulator, its chassis_control hook switching the same kind of
 * board) and ser2net (a board's serial pty on a TCP port). A board is `board.sh on|off|status`: whatever command the
 * test gives it, run in the background with its pid in a file, so "powered" means "that process is alive".
 */

export function boardToolsMissing(tools: string[]): string | undefined {
  for (const t of tools) if (!which(t) && !fs.existsSync(`/usr/sbin/${t}`)) return `SKIPPED LOUDLY: ${t} is not installed (see scripts/apt-packages.txt)`;
  return undefined;
}

async function waitFor(what: string, ok: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${ms / 1000} s`);
}

export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

export interface Board {
  dir: string;
  script: string;
  pidFile: string;
  /** The symlink to the board's serial pty (QEMU boards); ser2net reads it. */
  ptyLink: string;
  isOn(): boolean;
  /** Every on/off the board received, in order. */
  history(): string[];
  stop(): void;
}

/**
 * A board whose power is the life of `command` (a shell line). For a QEMU board the command daemonizes QEMU with a
 * pty serial port and a pid file; the script then links the pty to `ptyLink`, as udev would name a USB adapter.
 */
export function makeBoard(dir: string, command: string, opts: { qemu?: boolean } = {}): Board {
  fs.mkdirSync(dir, { recursive: true });
  const pidFile = path.join(dir, 'board.pid');
  const ptyLink = path.join(dir, 'board.pty');
  const historyFile = path.join(dir, 'history');
  const script = path.join(dir, 'board.sh');
  const start = opts.qemu
    ? `${command} -daemonize -pidfile ${pidFile} > ${dir}/qemu.err 2>&1 || { cat ${dir}/qemu.err >&2; exit 1; }
  ln -sfn "$(grep -o '/dev/pts/[0-9]*' ${dir}/qemu.err | head -1)" ${ptyLink}`
    : `setsid sh -c '${command.replace(/'/g, `'\\''`)}' > /dev/null 2>&1 < /dev/null & echo $! > ${pidFile}`;
  fs.writeFileSync(script, `#!/bin/sh
# board.sh on|off|status: the test board's power
alive() { [ -f ${pidFile} ] && kill -0 "$(cat ${pidFile})" 2>/dev/null; }
case "$1" in
on)
  echo on >> ${historyFile}
  alive && exit 0
  ${start}
  ;;
off)
  echo off >> ${historyFile}
  if alive; then p=$(cat ${pidFile}); kill "$p"; for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -9 "$p" 2>/dev/null; fi
  rm -f ${pidFile}
  ;;
status)
  if alive; then echo power:1; else echo power:0; fi
  ;;
esac
`, { mode: 0o755 });
  const isOn = () => {
    try { process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 0); return true; } catch { return false; }
  };
  return {
    dir, script, pidFile, ptyLink, isOn,
    history: () => (fs.existsSync(historyFile) ? fs.readFileSync(historyFile, 'utf8').trim().split('\n').filter(Boolean) : []),
    stop() {
      try { process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGKILL'); } catch { /* off */ }
    },
  };
}

export interface Daemon {
  port: number;
  proc: ResultPromise;
  output(): string;
  stop(): Promise<void>;
}

function spawnDaemon(program: string, args: string[], cwd: string): { proc: ResultPromise; output: () => string } {
  let out = '';
  const proc = execa(program, args, { cwd, reject: false, buffer: false, stdin: 'ignore' }) as unknown as ResultPromise;
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return { proc, output: () => out };
}

async function stopProc(proc: ResultPromise): Promise<void> {
  if (proc.pid) try { process.kill(proc.pid, 'SIGTERM'); } catch { /* gone */ }
  const t = setTimeout(() => { if (proc.pid) try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
  await proc.catch(() => undefined);
  clearTimeout(t);
}

/** pdudaemon with one PDU whose localcmdline outlets run `board.sh on|off`; `%d` is the outlet number. */
export async function startPdudaemon(dir: string, pdu: string, boards: Record<number, Board>): Promise<Daemon> {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  // localcmdline runs one shell line per outlet; a dispatcher picks the outlet's board.
  const dispatch = path.join(dir, 'outlet.sh');
  fs.writeFileSync(dispatch, `#!/bin/sh\ncase "$2" in\n${Object.entries(boards).map(([n, b]) => `  ${n}) exec ${b.script} "$1" ;;`).join('\n')}\n  *) echo "no board on outlet $2" >&2; exit 1 ;;\nesac\n`, { mode: 0o755 });
  const conf = path.join(dir, 'pdudaemon.conf');
  fs.writeFileSync(conf, JSON.stringify({
    daemon: { hostname: '127.0.0.1', port, logging_level: 'INFO', listener: 'http' },
    pdus: { [pdu]: { driver: 'localcmdline', cmd_on: `${dispatch} on %d`, cmd_off: `${dispatch} off %d` } },
  }, null, 2));
  const { proc, output } = spawnDaemon('pdudaemon', ['--conf', conf], dir);
  await waitFor(`pdudaemon on 127.0.0.1:${port}`, () => tcpOpen(port));
  return { port, proc, output, stop: () => stopProc(proc) };
}

/** ipmi_sim, a BMC on 127.0.0.1:port (UDP) whose chassis power is `board`, with one admin user. */
export async function startIpmiSim(dir: string, board: Board, user: string, password: string): Promise<Daemon> {
  const port = await freePort();
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true, mode: 0o700 });
  const hook = path.join(dir, 'chassis.sh');
  // ipmi_sim's chassis_control protocol: `hook DEVICE get power` prints power:N, `hook DEVICE set power N`.
  fs.writeFileSync(hook, `#!/bin/sh\nop=$2; shift 2\ncase "$op" in\nget) ${board.script} status ;;\nset) [ "$1" = power ] && { [ "$2" = 1 ] && ${board.script} on || ${board.script} off; } ;;\n*) exit 1 ;;\nesac\n`, { mode: 0o755 });
  const conf = path.join(dir, 'lan.conf');
  fs.writeFileSync(conf, `name "farmbmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${hook} board"
user 2 true "${user}" "${password}" admin 10 none md2 md5 straight
`, { mode: 0o600 });
  const emu = path.join(dir, 'bmc.emu');
  fs.writeFileSync(emu, 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nmc_enable 0x20\n');
  const { proc, output } = spawnDaemon('ipmi_sim', ['-c', conf, '-f', emu, '-s', path.join(dir, 'state'), '-n'], dir);
  // UDP: wait until ipmi_sim has the port bound (ss would need root's view; a bind attempt tells).
  await waitFor(`ipmi_sim on 127.0.0.1:${port}/udp`, () => new Promise<boolean>((resolve) => {
    const s = dgram.createSocket('udp4');
    s.on('error', () => { s.close(); resolve(true); });
    s.bind(port, '127.0.0.1', () => { s.close(); resolve(false); });
  }));
  return { port, proc, output, stop: () => stopProc(proc) };
}

/** ser2net exposing `device` on 127.0.0.1:port, raw TCP or telnet. Restartable on the same port (kill mid-boot). */
export async function startSer2net(dir: string, device: string, protocol: 'raw' | 'telnet' = 'raw', port?: number): Promise<Daemon> {
  fs.mkdirSync(dir, { recursive: true });
  const p = port ?? await freePort();
  const conf = path.join(dir, `ser2net-${p}.yaml`);
  fs.writeFileSync(conf, `connection: &board
  accepter: ${protocol === 'telnet' ? 'telnet,' : ''}tcp,127.0.0.1,${p}
  connector: serialdev,${device},115200n81,local
  options:
    kickolduser: false
`);
  const { proc, output } = spawnDaemon('ser2net', ['-n', '-u', '-c', conf, '-P', path.join(dir, `ser2net-${p}.pid`)], dir);
  await waitFor(`ser2net on 127.0.0.1:${p}`, () => tcpOpen(p));
  return { port: p, proc, output, stop: () => stopProc(proc) };
}
