// "Launch in QEMU" from the Clients tree: a real QEMU (-nographic, restricted user networking, every packet relayed to
// 127.0.0.1) running Debian's stock ipxe.lkrn with a script that fails to chain; the serial console is a VS Code
// terminal, its log is kept in the farm's runtime folder, and the iPXE error code is decoded as it scrolls by.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { IpxeErrorInfo } from '../../../src/core/ipxe/errors';
import { which } from '../../../src/core/process/light';
import { screenshot } from '../screenshot';
import { api, eventually, farmRoot, rows } from './support';

const LKRN = '/usr/lib/ipxe/ipxe.lkrn';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)); });
  });
}

interface Launched { terminal: vscode.Terminal; pty: { errors: IpxeErrorInfo[]; output: string; handle: { pid: number | undefined } }; logFile: string }

suite('QEMU serial terminal', () => {
  let root: string;
  let farmText = '';
  let skip: string | undefined;

  suiteSetup(async () => {
    if (!which('qemu-system-x86_64')) { skip = 'SKIPPED: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86): the QEMU terminal was NOT tested'; return; }
    if (!fs.existsSync(LKRN)) { skip = `SKIPPED: ${LKRN} is missing (apt-get install ipxe): the QEMU terminal was NOT tested`; return; }
    if (!which('socat')) { skip = 'SKIPPED: socat is not installed: restricted QEMU networking needs it'; return; }
    root = await farmRoot();
    const file = path.join(root, 'ipxe-farm.json');
    farmText = fs.readFileSync(file, 'utf8');
    const farm = JSON.parse(farmText);
    if (!farm.clients?.dut1) farm.clients = { ...farm.clients, dut1: { macs: ['52:54:00:12:34:56'], vars: {} } };
    // A guest-side farm address inside QEMU's user network: the extension picks restricted networking (restrict=on,
    // guestfwd to 127.0.0.1 only). Nothing listens on the forwarded port, so the chain fails with an iPXE error code.
    farm.server = { address: '10.0.2.100', names: ['127.0.0.1'], httpsPort: await freePort(), httpPort: await freePort() };
    fs.writeFileSync(file, `${JSON.stringify(farm, null, 2)}\n`);
    await (await api()).state.refresh();
  });

  suiteTeardown(async () => {
    if (skip) return;
    await vscode.commands.executeCommand('ipxeFarm.stopQemu', 'dut1');
    fs.writeFileSync(path.join(root, 'ipxe-farm.json'), farmText);
  });

  test('the play button runs QEMU in a terminal, keeps the serial log, and decodes the iPXE error it prints', async function () {
    if (skip) { console.log(`    ${skip}`); this.skip(); }
    const a = await api();
    const farm = JSON.parse(fs.readFileSync(path.join(root, 'ipxe-farm.json'), 'utf8'));
    const script = path.join(root, '.ipxe-farm', 'test-chain.ipxe');
    fs.mkdirSync(path.dirname(script), { recursive: true });
    fs.writeFileSync(script, `#!ipxe\necho iPXE Farm terminal test\ndhcp\nchain http://10.0.2.100:${farm.server.httpPort}/boot.ipxe || shell\n`);
    const dut1 = await eventually('the dut1 row', async () => (await rows(a.views.clients)).find((r) => r.label === 'dut1'));
    const launched = await vscode.commands.executeCommand<Launched>('ipxeFarm.launchQemu', dut1.node, { medium: { kind: 'kernel', kernel: LKRN, initrd: script } });
    assert.ok(launched, 'Launch in QEMU answers with the terminal it opened');
    assert.ok(vscode.window.terminals.some((t) => t.name === 'QEMU: dut1'), 'a terminal named "QEMU: dut1" is open');
    assert.equal(path.dirname(launched.logFile), path.join(root, '.ipxe-farm', 'qemu'));
    launched.terminal.show();
    const first = await eventually('an iPXE error code on the serial console', () => launched.pty.errors[0], 90_000);
    // The picture while the decoded error is on screen (the BIOS goes on to print its own boot attempts after).
    await vscode.commands.executeCommand('workbench.action.terminal.focus');
    await eventually('the iPXE shell prompt', () => /iPXE>/.test(launched.pty.output), 30_000);
    await new Promise((r) => setTimeout(r, 500));
    await screenshot('qemu-terminal');
    assert.match(first.code, /^[0-9a-f]{8}$/);
    assert.ok(first.message.length > 0);
    assert.match(launched.pty.output, /iPXE Farm terminal test/, 'the script ran: its echo is on the console');
    const log = fs.readFileSync(launched.logFile, 'utf8');
    assert.match(log, /iPXE/);
    assert.match(log, new RegExp(first.code), 'the serial log holds the code as iPXE printed it');
    // The console is interactive: what is typed in the terminal reaches iPXE's shell on the serial port.
    await eventually('the iPXE shell prompt', () => /iPXE>/.test(launched.pty.output), 30_000);
    // Typed a key at a time, as a person does: the emulated UART has a 16-byte FIFO that the firmware polls.
    for (const ch of 'echo typed-$' + '{mac}\r') {
      launched.terminal.sendText(ch, false);
      await new Promise((r) => setTimeout(r, 60));
    }
    await eventually('the shell to run the typed command', () => /typed-52:54:00:12:34:56/.test(launched.pty.output), 30_000)
      .catch((e: Error) => { throw new Error(`${e.message}; console tail: ${JSON.stringify(launched.pty.output.slice(-300))}`); });
    const code = await vscode.commands.executeCommand<number>('ipxeFarm.stopQemu', 'dut1');
    assert.equal(typeof code, 'number', 'Stop QEMU ends the process');
    const pid = launched.pty.handle.pid!;
    assert.throws(() => process.kill(pid, 0), 'the QEMU process is gone after Stop');
    await eventually('the terminal to close', () => !vscode.window.terminals.some((t) => t.name === 'QEMU: dut1'));
  });
});
