import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initFarm } from '../../../src/core/farm/init';
import { checkFarmText, loadFarm, updateFarm } from '../../../src/core/farm/load';
import { normaliseMac } from '../../../src/core/farm/validate';
import { FarmError } from '../../../src/core/errors';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'farm-'));

test('init writes a starter farm that loads, with private pki/ and runtime folders', async () => {
  const dir = path.join(tmp(), 'lab1');
  const layout = await initFarm(dir);
  const { farm } = await loadFarm(dir);
  assert.equal(farm.name, 'lab1');
  assert.equal(farm.server.address, '10.0.2.2');
  assert.equal(statSync(layout.pki).mode & 0o777, 0o700);
  assert.equal(statSync(layout.runtime).mode & 0o777, 0o700);
  assert.match(readFileSync(path.join(dir, '.gitignore'), 'utf8'), /secrets\.json/);
});

test('init refuses to overwrite an existing farm', async () => {
  const dir = tmp();
  await initFarm(dir);
  const before = readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8');
  await assert.rejects(initFarm(dir), (e: FarmError) => /already exists/.test(e.message));
  assert.equal(readFileSync(path.join(dir, 'ipxe-farm.json'), 'utf8'), before);
});

test('every problem is reported with its line, not just the first', () => {
  const text = `{
  "name": "lab",
  "server": { "httpsPort": 99999 },
  "profiles": { "linux": { "kernel": "vmlinuz" } },
  "clients": {
    "dut1": { "profile": "nope", "macs": ["52:54:00:12:34:56"] },
    "Bad Name": { "macs": ["52-54-00-12-34-56", "zz"] }
  }
}`;
  const { issues } = checkFarmText(text);
  const byPtr = new Map(issues.map((i) => [i.pointer, i]));
  assert.equal(byPtr.get('/server/httpsPort')?.at.line, 2);
  assert.match(byPtr.get('/clients/dut1/profile')!.message, /profile "nope", which is not defined/);
  assert.equal(byPtr.get('/clients/dut1/profile')?.at.line, 5);
  assert.match(byPtr.get('/clients/Bad Name')!.message, /not allowed/);
  assert.match(byPtr.get('/clients/Bad Name/macs/0')!.message, /already given to client "dut1"/);
  assert.match(byPtr.get('/clients/Bad Name/macs/1')!.message, /not a MAC/);
});

test('malformed JSON points at the place it broke', () => {
  const { issues } = checkFarmText('{\n  "name": "x",\n  "clients": {,}\n}');
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.at.line, 2);
  assert.match(issues[0]!.message, /not valid JSON/);
});

test('updateFarm keeps unknown keys and refuses a change that breaks the file, leaving it untouched', async () => {
  const dir = tmp();
  await initFarm(dir);
  const file = path.join(dir, 'ipxe-farm.json');
  const raw = JSON.parse(readFileSync(file, 'utf8'));
  raw.$comment = 'kept';
  writeFileSync(file, JSON.stringify(raw));
  await updateFarm(dir, (r) => { (r.profiles as Record<string, unknown>).linux = { kernel: 'vmlinuz', initrds: ['initrd.img'] }; });
  const after = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(after.$comment, 'kept');
  assert.equal(after.profiles.linux.kernel, 'vmlinuz');
  const before = readFileSync(file, 'utf8');
  await assert.rejects(updateFarm(dir, (r) => { (r.clients as Record<string, unknown>).dut1 = { profile: 'missing' }; }), /not defined/);
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('MACs are normalised to iPXE ${mac} form', () => {
  assert.equal(normaliseMac('52-54-00-AB-cd-EF'), '52:54:00:ab:cd:ef');
  assert.equal(normaliseMac('5254.00ab.cdef'), '52:54:00:ab:cd:ef');
  assert.equal(normaliseMac('52:54:00:ab:cd'), undefined);
});

test('a power command may not put a secret on a command line (ps shows it): the validator names the argument', () => {
  const { issues } = checkFarmText(JSON.stringify({
    name: 'lab', profiles: {},
    clients: { plug1: { macs: [], power: { driver: 'command', on: ['plug', '{{secret.pw}}'], off: ['plug', 'off'] } } },
  }));
  const e = issues.find((i) => i.pointer === '/clients/plug1/power/on/1');
  assert.ok(e, JSON.stringify(issues));
  assert.match(e.message, /visible to every user in ps/);
});

test('ipxe.proxyDhcp and ipxe.fastDhcpRetry must be true or false', () => {
  const { issues, farm } = checkFarmText('{ "name": "lab", "ipxe": { "proxyDhcp": "yes", "fastDhcpRetry": 0 } }');
  assert.deepEqual(issues.map((i) => i.pointer).sort(), ['/ipxe/fastDhcpRetry', '/ipxe/proxyDhcp']);
  assert.equal(farm?.ipxe.proxyDhcp, false);
  assert.equal(checkFarmText('{ "name": "lab", "ipxe": { "proxyDhcp": true } }').farm?.ipxe.proxyDhcp, true);
});
