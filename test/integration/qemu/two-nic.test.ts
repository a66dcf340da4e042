import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { which } from '../../support/farm';
import { loadFarm, updateFarm } from '../../../src/core/farm/load';
import { buildClientImage } from '../../../src/core/ipxe/build';
import { locateIpxeSource } from '../../../src/core/ipxe/source';
import { plainText } from '../../../src/core/qemu/stages';
import { QEMU_PROGRAM } from '../../../src/core/qemu/args';
import { openFarm } from '../../../src/core/farm/handle';

// A board with two ports, the first one uncabled: the farm's image runs DHCP on the port with the client's MAC
// straight away, where a plain `dhcp` would first wait 15 s for net0's link. Real build, real QEMU (TCG), both NICs
// on restricted user networking; net0's link is pulled through the QEMU monitor before the guest runs.

const MAC = '52:54:00:00:00:99';

async function monitor(sock: string, commands: string[]): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await new Promise<void>((resolve, reject) => {
        const c = net.connect(sock, () => { c.end(commands.map((x) => `${x}\n`).join('')); });
        c.on('error', reject);
        c.on('close', () => resolve());
        c.resume();
      });
      return;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('the image configures the port with the client\'s MAC first, with no link-up wait on an uncabled port before it', { timeout: 30 * 60_000 }, async (t) => {
  for (const tool of ['make', 'gcc', 'xorriso', 'flock', 'qemu-system-x86_64']) {
    if (!which(tool)) return t.skip(`SKIPPED LOUDLY: ${tool} is not installed`);
  }
  const root = await farmWithPki('twonic');
  let source;
  try {
    source = await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false });
  } catch (err) {
    return t.skip(`SKIPPED LOUDLY: no iPXE source tree (set IPXE_SRC): ${(err as Error).message}`);
  }
  await updateFarm(root, (raw) => { raw.clients = { dut1: { macs: [MAC], vars: {} } }; });
  const built = await buildClientImage(await openFarm(root), 'dut1', { target: 'iso', source, script: { onFailure: 'poweroff', chainAttempts: 1, retryDelay: 0 } });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-twonic-'));
  const sock = path.join(dir, 'monitor.sock');
  const qemu = spawn(QEMU_PROGRAM, [
    '-S', '-monitor', `unix:${sock},server,nowait`, '-accel', 'tcg', '-m', '512', '-nographic', '-no-reboot',
    '-cdrom', built.files[0]!, '-boot', 'd',
    '-netdev', 'user,id=n0,restrict=on', '-device', 'e1000,netdev=n0,romfile=,mac=52:54:00:00:00:11',
    '-netdev', 'user,id=n1,restrict=on', '-device', `virtio-net-pci,netdev=n1,romfile=,mac=${MAC}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  try {
    const configured = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no DHCP on net1 within 10 min:\n${plainText(out).slice(-1500)}`)), 10 * 60_000);
      qemu.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (/Configuring \(net1 52:54:00:00:00:99\)[.\s]*ok/.test(plainText(out))) { clearTimeout(timer); resolve(); }
      });
      qemu.on('exit', () => { clearTimeout(timer); reject(new Error(`QEMU ended before DHCP on net1:\n${plainText(out).slice(-1500)}`)); });
    });
    await monitor(sock, ['set_link n0 off', 'cont']);
    await configured;
  } finally {
    try { process.kill(-qemu.pid!, 'SIGKILL'); } catch { /* gone */ }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const console = plainText(out);
  assert.ok(!/Waiting for link-up on net0/.test(console), `no link wait on the uncabled net0:\n${console.slice(-1500)}`);
  assert.ok(!/Configuring \(net0/.test(console), 'net0 was never tried');
});
