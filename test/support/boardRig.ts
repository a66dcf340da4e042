import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { farmWithPki } from './pki';
import { ensureTestKernel } from './kernel';
import { Board, boardToolsMissing, Daemon, makeBoard, startPdudaemon, startSer2net } from './boards';
import { FarmServers, missingTools, startFarmServers } from '../integration/e2e/rig';
import { farmLayout } from '../../src/core/farm/layout';
import { updateFarm } from '../../src/core/farm/load';
import { setSecret } from '../../src/core/secrets/store';
import { ensureStockIpxe, stockUnavailable } from '../../src/core/stock/debianPackage';
import { buildStockImage, type StockImageResult } from '../../src/core/stock/image';
import { findOvmf } from '../../src/core/stock/ovmf';
import { clientLaunchOptions } from '../../src/core/qemu/client';
import { qemuArgs, shellLine } from '../../src/core/qemu/args';
import { openFarm } from '../../src/core/farm/handle';

/**
 * A farm with two clients booting the same way — Debian's stock EFI iPXE over mutual TLS, a served script pinning the
 * test kernel and initrd — one a QEMU client the farm starts itself ("vm1"), one a board ("dut1"): QEMU daemonized by
 * pdudaemon's localcmdline outlet, its serial pty served by ser2net on 127.0.0.1. For the end-to-end test and the
 * benchmark that compares the two paths.
 */
export interface BoardRig {
  root: string;
  dir: string;
  token: string;
  board: Board;
  pdu: Daemon;
  s2n: Daemon;
  servers: FarmServers;
  stick: StockImageResult;
  serviceLog: string[];
  restartSer2net(pauseMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function boardRigUnavailable(): Promise<string | undefined> {
  const skip = boardToolsMissing(['pdudaemon', 'ser2net']) ?? missingTools(['qemu-system-x86_64', 'socat', 'nginx', 'mformat', 'mcopy'])
    ?? stockUnavailable() ?? (findOvmf() ? undefined : 'SKIPPED LOUDLY: ovmf is not installed (apt-get install ovmf)');
  if (skip) return skip;
  try { await ensureStockIpxe(); } catch (err) { return `SKIPPED LOUDLY: Debian's stock iPXE could not be downloaded: ${(err as Error).message}`; }
  return undefined;
}

const sha256 = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** opts.root: rig an existing farm (the editor suite's workspace; dut1 issued) instead of a new temp one. */
export async function startBoardRig(name = 'boards', token = 'brdTok-5Rq81Lx', opts: { root?: string } = {}): Promise<BoardRig> {
  const root = opts.root ?? await farmWithPki(name);
  const dir = opts.root ? fs.mkdtempSync(path.join(os.tmpdir(), 'board-rig-')) : path.join(path.dirname(root), 'rig');
  const layout = farmLayout(root);
  const kernel = await ensureTestKernel();
  fs.copyFileSync(kernel.kernel, path.join(layout.files, 'vmlinuz'));
  fs.copyFileSync(kernel.initrd, path.join(layout.files, 'initrd.gz'));
  const pin = (n: string, hash: string) => [`sha256sum --set farm_sum ${n}`, `iseq \${farm_sum} ${hash} || exit 1`];
  await setSecret(root, 'token', token);
  await updateFarm(root, (raw) => {
    (raw.server as Record<string, unknown>).address = '10.0.2.100';
    (raw.nginx as Record<string, unknown>).runtime = 'local';
    const keep = (k: string) => (opts.root ? raw[k] as Record<string, unknown> : {});
    raw.profiles = { ...keep('profiles'), pinned: {
      kernel: 'vmlinuz', initrds: ['initrd.gz'], verify: false, cmdline: 'console=ttyS0 quiet farm.token={{secret.token}} host={{client.name}}',
      extra: [...pin('kernel', sha256(kernel.kernel)), ...pin('initrd0', sha256(kernel.initrd)), 'imgfree autoexec.ipxe ||', 'imgfree boot.ipxe ||'],
    } };
    raw.clients = { ...keep('clients'), dut1: { profile: 'pinned', macs: ['52:54:00:00:00:31'], vars: {} }, dut2: { profile: 'pinned', macs: ['52:54:00:00:00:32'], vars: {} } };
  });
  const stick = await buildStockImage(await openFarm(root), 'dut1', { script: { onFailure: 'poweroff', chainAttempts: 1, dhcpAttempts: 3, retryDelay: 1 } });
  // The board: the client's own QEMU command, daemonized with its serial port on a pty instead of stdio.
  const launch = await clientLaunchOptions(await openFarm(root), 'dut1', { efi: true, image: stick.image, efiVars: stick.vars });
  const fw = findOvmf()!;
  const runVars = path.join(dir, 'board', 'vars.fd');
  const args = qemuArgs({ ...launch.spec, accel: 'tcg', ovmf: { code: fw.code, vars: runVars } }).filter((a) => a !== '-nographic');
  args.push('-display', 'none', '-monitor', 'none', '-serial', 'pty');
  const board = makeBoard(path.join(dir, 'board'), `cp ${stick.vars} ${runVars} && ${shellLine('qemu-system-x86_64', args)}`, { qemu: true });
  const pdu = await startPdudaemon(path.join(dir, 'pdu'), 'pdu1', { 1: board });
  let s2n = await startSer2net(path.join(dir, 's2n'), board.ptyLink, 'raw');
  await updateFarm(root, (raw) => {
    const c = (raw.clients as Record<string, Record<string, unknown>>).dut1!;
    c.power = { driver: 'pdudaemon', host: '127.0.0.1', port: pdu.port, pdu: 'pdu1', outlet: 1 };
    c.console = { driver: 'tcp', host: '127.0.0.1', port: s2n.port, protocol: 'raw' };
  });
  const serviceLog: string[] = [];
  const servers = await startFarmServers(root, (l) => serviceLog.push(l));
  const rig: BoardRig = {
    root, dir, token, board, pdu, s2n, servers, stick, serviceLog,
    async restartSer2net(pauseMs) {
      await s2n.stop();
      await new Promise((r) => setTimeout(r, pauseMs));
      s2n = await startSer2net(path.join(dir, 's2n'), board.ptyLink, 'raw', s2n.port);
      rig.s2n = s2n;
    },
    async stop() {
      board.stop();
      await rig.s2n.stop();
      await pdu.stop();
      await servers.stop();
    },
  };
  return rig;
}
