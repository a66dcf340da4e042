import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { farmLayout } from '../../../src/core/farm/layout';
import { updateFarm } from '../../../src/core/farm/load';
import { readPkiIndex } from '../../../src/core/pki';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { readBootEvents } from '../../../src/core/boot/events';
import { socketGet } from './socketClient';

const services: BootService[] = [];
after(async () => { for (const s of services) await s.close().catch(() => undefined); });

async function farm(): Promise<{ root: string; fp: string }> {
  const root = await farmWithPki();
  fs.writeFileSync(path.join(farmLayout(root).files, 'vmlinuz'), 'k');
  await updateFarm(root, (raw) => {
    raw.profiles = { p1: { kernel: 'vmlinuz', initrds: [], cmdline: 'console=ttyS0 who={{client.name}}', verify: false, extra: [] } };
    raw.clients = { dut1: { profile: 'p1', macs: [], vars: {} } };
  });
  const fp = (await readPkiIndex(root)).records.find((r) => r.kind === 'client' && r.name === 'dut1')!.sha1;
  return { root, fp };
}

const ok = (fp: string) => ({ 'X-SSL-Client-Verify': 'SUCCESS', 'X-SSL-Client-Fingerprint': fp });

test('a boot-events log that cannot be written does not stop boots: every request is answered and the service log says so once', async () => {
  const { root, fp } = await farm();
  const layout = farmLayout(root);
  fs.mkdirSync(path.dirname(layout.bootEvents), { recursive: true });
  fs.symlinkSync('/dev/full', layout.bootEvents); // every write fails with ENOSPC, like a full disk
  const logs: string[] = [];
  const svc = await startBootService({ root, log: (l) => logs.push(l) });
  services.push(svc);
  for (let i = 0; i < 5; i++) {
    const r = await socketGet(svc.socket, '/boot.ipxe', ok(fp));
    assert.equal(r.status, 200);
    assert.ok(r.body.includes('who=dut1'));
  }
  await new Promise((r) => setImmediate(r));
  const said = logs.filter((l) => l.includes('cannot write boot events'));
  assert.equal(said.length, 1, logs.join('\n'));
  assert.match(said[0]!, /ENOSPC/);
  await svc.close();
});

test('nginx-style persistent connections: many requests on one connection, one accept; events of every answer are on disk after close', async () => {
  const { root, fp } = await farm();
  const svc = await startBootService({ root, log: () => undefined });
  services.push(svc);
  // An agent with keepAlive and one socket is what nginx's upstream keepalive amounts to.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ socketPath: svc.socket, path: '/boot.ipxe', agent, headers: ok(fp) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  const before = svc.stats();
  const answers = await Promise.all(Array.from({ length: 20 }, get));
  agent.destroy();
  assert.ok(answers.every((a) => a.status === 200 && a.body.includes('who=dut1')));
  const s = svc.stats();
  assert.equal(s.requests - before.requests, 20);
  assert.equal(s.connections - before.connections, 1, 'one connection carried all twenty requests');
  // Close straight after the last answer: nothing answered is missing from the log.
  await svc.close();
  const events = (await readBootEvents(root)).filter((e) => e.client === 'dut1' && e.status === 200);
  assert.equal(events.length, 20);
});
