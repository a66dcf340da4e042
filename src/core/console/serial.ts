import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tty from 'node:tty';
import { pidAlive } from '../process/light';
import { run } from '../process';
import { ConsoleEvents, ConsoleStream, retryDelay } from './stream';

/**
 * A local serial device (/dev/ttyUSB0, or a pty). Set to the baud rate with stty, opened raw, and locked the way
 * minicom, picocom and ser2net lock a port (a UUCP lock file naming the holder's pid), so two programs never read the
 * same console: a port someone else holds is reported busy with that holder's pid, and retried.
 */
export interface SerialTarget { device: string; baud: number }

export const LOCK_DIR = '/var/lock';

export function lockFileFor(device: string): string {
  let real = device;
  try { real = fs.realpathSync(device); } catch { /* missing: name it as given */ }
  return path.join(LOCK_DIR, `LCK..${path.basename(real)}`);
}

/** The live pid holding a lock, if any (a stale lock of a dead process is removed). */
function lockHolder(file: string): number | undefined {
  let pid: number;
  try { pid = Number(fs.readFileSync(file, 'utf8').trim()); } catch { return undefined; }
  if (pid > 0 && pid !== process.pid) {
    if (pidAlive(pid)) return pid;
  }
  try { fs.rmSync(file, { force: true }); } catch { /* not ours to remove */ }
  return undefined;
}

function takeLock(file: string): boolean {
  try {
    fs.writeFileSync(file, `${String(process.pid).padStart(10)}\n`, { flag: 'wx', mode: 0o644 });
    return true;
  } catch (err) {
    // No lock folder, or not writable: lock as well as the system allows, never refuse the console for it.
    return (err as NodeJS.ErrnoException).code !== 'EEXIST';
  }
}

function programOf(pid: number): string {
  try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return 'another program'; }
}

export function serialConsole(client: string, t: SerialTarget): ConsoleStream {
  const ev = new ConsoleEvents();
  const describe = `${client}'s serial console ${t.device} at ${t.baud} baud`;
  let stream: tty.ReadStream | undefined;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let lock: string | undefined;

  const release = () => {
    if (lock) { try { if (Number(fs.readFileSync(lock, 'utf8').trim()) === process.pid) fs.rmSync(lock); } catch { /* gone */ } }
    lock = undefined;
  };
  const again = (why: string) => {
    stream = undefined;
    release();
    if (closed) return;
    ev.setState('waiting', why);
    timer = setTimeout(() => void open(), retryDelay(attempt++));
  };

  async function open(): Promise<void> {
    if (closed) return;
    if (!fs.existsSync(t.device)) return again(`the serial device ${t.device} of ${client} does not exist (unplugged adapter, or the board is off?); waiting for it`);
    const file = lockFileFor(t.device);
    const holder = lockHolder(file);
    if (holder !== undefined || !takeLock(file)) {
      const pid = holder ?? lockHolder(file);
      return again(`the serial device ${t.device} of ${client} is busy: ${pid ? `${programOf(pid)} (pid ${pid}) holds it` : 'another program locked it'}; close that program, waiting for it to free up`);
    }
    lock = file;
    const stty = await run('stty', ['-F', t.device, String(t.baud), 'raw', '-echo']).catch((e: Error) => ({ exitCode: 1, stderr: e.message, stdout: '' }));
    if (stty.exitCode !== 0) return again(`the serial device ${t.device} of ${client} cannot be set to ${t.baud} baud (${stty.stderr.trim().split('\n').pop()}); retrying`);
    let fd: number;
    try {
      fd = fs.openSync(t.device, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' ? `you may not open ${t.device} (add yourself to its group, usually dialout)`
        : code === 'EBUSY' ? `${t.device} is busy (another program opened it exclusively)` : `${t.device} cannot be opened (${code})`;
      return again(`the serial console of ${client} is unavailable: ${why}; retrying`);
    }
    if (closed) { fs.closeSync(fd); release(); return; }
    const s = new tty.ReadStream(fd);
    s.setRawMode(true);
    stream = s;
    s.setEncoding('utf8');
    s.on('data', (d: string) => ev.emitData(d));
    const gone = () => { if (stream === s) { s.destroy(); again(`the serial device ${t.device} of ${client} went away; waiting for it to come back`); } };
    s.on('error', gone);
    s.on('end', gone);
    s.on('close', gone);
    attempt = 0;
    ev.setState('connected', `opened ${t.device} at ${t.baud} baud`);
  }

  void open();
  return {
    describe,
    onData: (l) => ev.onData(l),
    onState: (l) => ev.onState(l),
    write(input) { stream?.write(input); },
    ready: (ms = 30_000) => ev.ready(ms, describe),
    close() {
      closed = true;
      clearTimeout(timer);
      const s = stream;
      stream = undefined;
      s?.destroy();
      release();
      ev.setState('closed', 'closed');
    },
  };
}
