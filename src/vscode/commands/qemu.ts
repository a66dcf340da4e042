import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FarmError } from '../../core/errors';
import { ensureDir } from '../../core/fs/atomic';
import { decodeIpxeError, describeIpxeError } from '../../core/ipxe/errors';
import { resolveAccel } from '../../core/qemu/accel';
import { BootMedium, QemuNetwork, qemuArgs } from '../../core/qemu/args';
import { QemuSerialTerminal } from '../qemu/serialTerminal';
import { settings } from '../settings';
import { checkErrorCode } from '../model/validation';
import { ask, command, CommandContext, pickClient, refName, requireFarm } from './context';

export interface LaunchArgs {
  /** Boot this instead of the client's built image (tests: a stock ipxe.lkrn with a script as initrd). */
  medium?: BootMedium;
}

/** The client's newest built image under ipxe/<client>/out/, as QEMU boots it. */
function builtImage(root: string, client: string): BootMedium | undefined {
  const dir = path.join(root, 'ipxe', client, 'out');
  for (const [file, kind] of [['ipxe.iso', 'cdrom'], ['ipxe.usb', 'disk']] as const) {
    const p = path.join(dir, file);
    if (fs.existsSync(p)) return { kind, path: p };
  }
  return undefined;
}

/**
 * A farm whose address is inside QEMU's user network (10.0.2.x, not the host's 10.0.2.2) is reached through
 * restricted networking: the guest sees only the farm's two ports, relayed to 127.0.0.1. Otherwise plain user
 * networking, where the host is 10.0.2.2.
 */
function networkFor(address: string, https: number, http: number): QemuNetwork {
  if (/^10\.0\.2\.\d+$/.test(address) && address !== '10.0.2.2') {
    return { kind: 'restricted', address, forwards: [{ guestPort: https, hostPort: https }, { guestPort: http, hostPort: http }] };
  }
  return { kind: 'user' };
}

export function qemuCommands(c: CommandContext): vscode.Disposable[] {
  const running = new Map<string, { terminal: vscode.Terminal; pty: QemuSerialTerminal }>();
  return [
    command(c, 'ipxeFarm.launchQemu', async (arg?: unknown, opts?: unknown) => {
      const loaded = await requireFarm(c);
      const name = refName(arg) ?? await pickClient(loaded, 'Boot which client in QEMU?');
      if (!name) return undefined;
      const o = (opts ?? {}) as LaunchArgs;
      const medium = o.medium ?? builtImage(loaded.layout.root, name);
      if (!medium) {
        throw new FarmError(`No image is built for ${name} yet.`, `Run "iPXE Farm: Build Image" on ${name} first.`, 'ENOIMAGE');
      }
      const s = settings();
      const { farm, layout } = loaded;
      const { accel, note } = await resolveAccel(s.accel !== 'auto' ? s.accel : farm.qemu.accel);
      if (note) c.out.farm.info(note);
      const args = qemuArgs({
        firmware: 'bios', accel, memoryMiB: farm.qemu.memoryMiB, medium,
        network: networkFor(farm.server.address, farm.server.httpsPort, farm.server.httpPort),
        mac: farm.clients[name]?.macs[0],
      });
      const logDir = path.join(layout.runtime, 'qemu');
      await ensureDir(layout.runtime, 0o700);
      await ensureDir(logDir, 0o700);
      const logFile = path.join(logDir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
      running.get(name)?.terminal.dispose();
      const pty = new QemuSerialTerminal({ program: s.qemuPath, args, logFile, title: `QEMU: ${name}` });
      pty.onIpxeError((info) => {
        c.out.farm.warn(`QEMU ${name}: iPXE error ${info.code}: ${info.message}`);
        void vscode.window.showWarningMessage(`${name}: ${describeIpxeError(info).split('\n').join(' ')}`);
      });
      const terminal = vscode.window.createTerminal({ name: `QEMU: ${name}`, pty, iconPath: new vscode.ThemeIcon('vm-running') });
      running.set(name, { terminal, pty });
      terminal.show();
      c.out.farm.info(`QEMU ${name}: ${s.qemuPath} ${args.join(' ')} (serial log ${logFile})`);
      return { terminal, pty, logFile };
    }),
    command(c, 'ipxeFarm.stopQemu', async (arg?: unknown) => {
      const name = refName(arg) ?? [...running.keys()][0];
      const r = name ? running.get(name) : undefined;
      if (!r) return undefined;
      const code = await r.pty.stop();
      r.terminal.dispose();
      running.delete(name!);
      return code;
    }),
    { dispose: () => { for (const r of running.values()) void r.pty.stop(); } },
    command(c, 'ipxeFarm.decodeError', async (arg?: unknown) => {
      const text = typeof arg === 'string' ? arg : await ask('iPXE error code (the 8 hex digits after ipxe.org/)', checkErrorCode, { placeHolder: '0216eb3c' });
      if (!text) return undefined;
      const code = /([0-9a-f]{8})\s*\)?\s*$/i.exec(text.trim())?.[1] ?? text;
      const info = decodeIpxeError(code);
      const msg = describeIpxeError(info);
      c.out.farm.info(msg);
      void vscode.window.showInformationMessage(msg.split('\n')[0]!, { modal: false, detail: msg });
      return info;
    }),
  ];
}
