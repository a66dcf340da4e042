// ▶ on a real board, from the editor: the workspace farm's dut1 gets pdudaemon power and a ser2net console (the board
// rig of the integration tests: a QEMU "board" on Debian's stock EFI stick, switched by pdudaemon's localcmdline
// outlet, its serial pty served by ser2net, all on 127.0.0.1), then the play button on dut1's row power-cycles it
// through core's boot verdict, the console opens in a terminal (secrets masked) and PASS reaches the Clients tree.
// The rig runs inside the extension host (core code, Debian's daemons as child processes).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BootVerdict } from '../../../src/core/verdict/boot';
import { readVerdicts } from '../../../src/core/verdict/health';
import { boardRigUnavailable, startBoardRig, type BoardRig } from '../../support/boardRig';
import { api, eventually, farmRoot, rows } from './support';

interface Launched { terminal: vscode.Terminal; pty: { output: string }; verdict: Promise<BootVerdict | undefined> }

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)); });
  });
}

suite('▶ on a real board (pdudaemon power, ser2net console)', function () {
  let root = '';
  let skip: string | undefined;
  let rig: BoardRig | undefined;
  let farmText = '';
  const savedCache = process.env.XDG_CACHE_HOME;
  const TOKEN = 'edBrdTok-7Hq2Zp';

  suiteSetup(async function () {
    this.timeout(15 * 60_000);
    // The harness gives VS Code a temp HOME: the stock iPXE and the test kernel are in the real user's cache.
    process.env.XDG_CACHE_HOME = path.join(os.userInfo().homedir, '.cache');
    skip = await boardRigUnavailable();
    if (skip) return;
    root = await farmRoot();
    if (!fs.existsSync(path.join(root, 'pki', 'issued', 'clients', 'dut1.crt'))) { skip = 'SKIPPED: the seed-workflow suite did not issue dut1'; return; }
    const file = path.join(root, 'ipxe-farm.json');
    farmText = fs.readFileSync(file, 'utf8');
    const farm = JSON.parse(farmText);
    farm.server = { ...farm.server, httpsPort: await freePort(), httpPort: await freePort() };
    fs.writeFileSync(file, `${JSON.stringify(farm, null, 2)}\n`);
    for (let d = root; d.startsWith('/tmp/'); d = path.dirname(d)) fs.chmodSync(d, fs.statSync(d).mode | 0o011);
    rig = await startBoardRig('boards', TOKEN, { root });
    await (await api()).state.refresh();
  });

  suiteTeardown(async function () {
    this.timeout(120_000);
    await rig?.stop();
    if (farmText) fs.writeFileSync(path.join(root, 'ipxe-farm.json'), farmText);
    if (savedCache === undefined) delete process.env.XDG_CACHE_HOME; else process.env.XDG_CACHE_HOME = savedCache;
    if (root) await (await api()).state.refresh();
  });

  test('the play button power-cycles dut1, shows its console in a terminal and records PASS in the Clients tree', async function () {
    if (skip) { console.log(`    ${skip}`); this.skip(); }
    this.timeout(12 * 60_000);
    const a = await api();
    const before = await readVerdicts(root);
    const dut1 = await eventually('the dut1 row', async () => (await rows(a.views.clients)).find((r) => r.label === 'dut1'));
    const launched = await vscode.commands.executeCommand<Launched>('ipxeFarm.launchQemu', dut1.node, { timeoutSeconds: 480 });
    assert.ok(launched?.verdict, 'the play button on a board starts a boot verdict');
    assert.ok(vscode.window.terminals.some((t) => t.name === 'Board: dut1'), 'the board console terminal is open');
    const v = await launched.verdict;
    const tail = () => `console tail: ${JSON.stringify(launched.pty.output.slice(-1500))}\nservice: ${rig!.serviceLog.slice(-6).join('\n')}`;
    assert.ok(v, `a verdict came; ${tail()}`);
    assert.equal(v.outcome, 'pass', `${v.reason}; ${tail()}`);
    assert.match(v.via.power, /^pdudaemon at 127\.0\.0\.1:\d+, PDU pdu1 outlet 1$/);
    assert.deepEqual(rig!.board.history().slice(0, 2), ['off', 'on'], 'a power cycle: off, then on');
    // The board's own words through ser2net, with the farm's secret masked in the terminal.
    assert.match(launched.pty.output, /iPXE/);
    assert.match(launched.pty.output, /IPXE-FARM-LINUX-UP cmdline: .*farm\.token=«redacted»/);
    assert.ok(!launched.pty.output.includes(TOKEN), 'the secret never reaches the terminal');
    const recorded = await readVerdicts(root);
    assert.equal(recorded.length, before.length + 1);
    assert.equal(recorded.at(-1)?.outcome, 'pass');
    const passed = before.filter((x) => x.client === 'dut1' && x.outcome === 'pass').length + 1;
    const boots = before.filter((x) => x.client === 'dut1').length + 1;
    const row = await eventually('dut1\'s row to show the recorded boot health', async () => {
      const r = (await rows(a.views.clients)).find((x) => x.label === 'dut1' && String(x.description).includes(` ${passed}/${boots}`));
      return r && (await rows(a.views.clients, r.node)).find((x) => x.label === 'Boot health');
    }, 60_000);
    assert.match(String(row.description), new RegExp(` ${passed}/${boots}`));
    launched.terminal.dispose();
  });
});
