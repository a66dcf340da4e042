import * as vscode from 'vscode';
import { decodeIpxeError, describeIpxeError } from '../../core/ipxe';
import type { BootMedium } from '../../core/qemu';
import { clientLaunchOptions, farmNetwork } from '../../core/qemu';
import { lastMadeImage } from '../../core/qemu';
import { launchQemu } from '../../core/qemu';
import { isQemuPowered } from '../../core/power';
import { bootBoard, type BoardBoot } from '../board/boardBoot';
import { QemuSerialTerminal } from '../qemu/serialTerminal';
import { settings } from '../settings';
import { checkErrorCode } from '../model/validation';
import { ask, command, CommandContext, pickClient, refName, requireFarm } from './context';

export interface LaunchArgs {
  /** Boot this instead of the client's built image (tests: a stock ipxe.lkrn with a script as initrd). */
  medium?: BootMedium;
  /** A real board: seconds before the verdict is FAIL (default 300, as `ipxe-farm boot`). */
  timeoutSeconds?: number;
}

export function qemuCommands(c: CommandContext): vscode.Disposable[] {
  const running = new Map<string, { terminal: vscode.Terminal; pty: QemuSerialTerminal }>();
  const boards = new Map<string, BoardBoot>();
  return [
    command(c, 'ipxeFarm.launchQemu', async (arg?: unknown, opts?: unknown) => {
      const loaded = await requireFarm(c);
      const name = refName(arg) ?? await pickClient(loaded, 'Boot which client in QEMU?');
      if (!name) return undefined;
      const o = (opts ?? {}) as LaunchArgs;
      const s = settings();
      const { farm, layout } = loaded;
      // A real board (a power driver other than QEMU): the same verdict as `ipxe-farm boot`, its console in a terminal.
      if (!o.medium && !isQemuPowered(farm, name)) {
        boards.get(name)?.terminal.dispose();
        const b = bootBoard(c, loaded, name, { timeoutMs: o.timeoutSeconds ? o.timeoutSeconds * 1000 : undefined });
        boards.set(name, b);
        return b;
      }
      // The CLI's `ipxe-farm qemu` and this button share one choice of image, firmware and network (core's).
      const base = o.medium
        ? { root: layout.root, name, spec: { firmware: 'bios' as const, accel: farm.qemu.accel, memoryMiB: farm.qemu.memoryMiB, medium: o.medium, network: farmNetwork(farm), mac: farm.clients[name]?.macs[0] } }
        : await clientLaunchOptions(loaded, name, await lastMadeImage(layout.root, name));
      const accel = s.accel !== 'auto' ? s.accel : base.spec.accel;
      running.get(name)?.terminal.dispose();
      // ipxeFarm.qemuPath names the x86_64 QEMU; another CPU's guest runs its own qemu-system-* from PATH.
      const handle = await launchQemu({ ...base, spec: { ...base.spec, accel }, program: (base.spec.cpu ?? 'x86_64') === 'x86_64' ? s.qemuPath : undefined });
      const logFile = handle.logFile;
      const pty = new QemuSerialTerminal(handle);
      pty.onIpxeError((info) => {
        c.out.farm.warn(`QEMU ${name}: iPXE error ${info.code}: ${info.message}`);
        void vscode.window.showWarningMessage(`${name}: ${describeIpxeError(info).split('\n').join(' ')}`);
      });
      const terminal = vscode.window.createTerminal({ name: `QEMU: ${name}`, pty, iconPath: new vscode.ThemeIcon('vm-running') });
      running.set(name, { terminal, pty });
      terminal.show();
      c.out.farm.info(`QEMU ${name} (${handle.accel}): ${handle.command} (serial log ${logFile})`);
      return { terminal, pty, logFile, command: handle.command, firmware: base.spec.firmware };
    }),
    command(c, 'ipxeFarm.stopQemu', async (arg?: unknown) => {
      const name = refName(arg) ?? [...running.keys()][0] ?? [...boards.keys()][0];
      const board = name ? boards.get(name) : undefined;
      if (board) {
        board.pty.cancel();
        boards.delete(name!);
        await board.verdict;
        return undefined;
      }
      const r = name ? running.get(name) : undefined;
      if (!r) return undefined;
      const code = await r.pty.stop();
      r.terminal.dispose();
      running.delete(name!);
      return code;
    }),
    { dispose: () => { for (const r of running.values()) void r.pty.stop(); for (const b of boards.values()) b.pty.cancel(); } },
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
