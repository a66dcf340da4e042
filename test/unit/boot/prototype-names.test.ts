import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempFarm } from '../../support/farm';
import { farmLayout } from '../../../src/core/farm/layout';
import { validateFarm } from '../../../src/core/farm/validate';
import { renderScript, RenderError } from '../../../src/core/boot/render';
import { selectBoot } from '../../../src/core/boot/select';
import { checkBootMappings } from '../../../src/core/boot/check';
import { CertLookup } from '../../../src/core/pki/certLookup';
import { parseSecrets } from '../../../src/core/secrets/store';
import { record, FP1 } from './fixtures';

// Issue 13, finding 4: every name-keyed table answers only for its own entries. "constructor", "toString",
// "__proto__" and friends are unknown names, never something inherited from Object.prototype.

const INHERITED = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', '__defineGetter__'];

const base = (extra: Record<string, unknown>) => ({
  name: 'f',
  profiles: { p: { kernel: 'http://x.example/vmlinuz', initrds: [], cmdline: 'console=ttyS0', verify: false, extra: [] } },
  clients: {},
  ...extra,
});

test('finding 4: a client or default profile named after an Object.prototype member is an unknown profile', () => {
  for (const n of INHERITED) {
    const { issues } = validateFarm(base({ clients: { dut2: { profile: n, macs: [], vars: {} } } }));
    assert.ok(issues.some((i) => i.severity === 'error' && i.pointer === '/clients/dut2/profile' && /not defined/.test(i.message)), `client profile "${n}"`);
    const d = validateFarm(base({ defaultProfile: n }));
    assert.ok(d.issues.some((i) => i.severity === 'error' && i.pointer === '/defaultProfile'), `default profile "${n}"`);
  }
});

test('finding 4: the farm\'s tables inherit nothing, so a lookup by any name is its own entry or undefined', () => {
  const { farm } = validateFarm(base({ clients: { dut1: { profile: 'p', macs: [], vars: { disk: '/dev/vda' } } } }));
  for (const n of INHERITED) {
    assert.equal(farm.profiles[n], undefined, `profiles.${n}`);
    assert.equal(farm.clients[n], undefined, `clients.${n}`);
    assert.equal(farm.clients.dut1!.vars[n], undefined, `vars.${n}`);
  }
  const secrets = parseSecrets('{"version":1,"secrets":{"s":"v"}}');
  for (const n of INHERITED) assert.equal(secrets[n], undefined, `secrets.${n}`);
});

test('finding 4: {{secret.toString}} and {{client.vars.constructor}} are unknown, at load time and at render time', async () => {
  const root = await tempFarm();
  const layout = farmLayout(root);
  const { farm } = validateFarm(base({
    profiles: {
      s: { kernel: 'http://x.example/vmlinuz', initrds: [], cmdline: 'k={{secret.toString}}', verify: false, extra: [] },
      v: { kernel: 'http://x.example/vmlinuz', initrds: [], cmdline: 'k={{client.vars.constructor}}', verify: false, extra: [] },
    },
    clients: { dut1: { profile: 's', macs: [], vars: {} }, dut2: { profile: 'v', macs: [], vars: {} } },
  }));
  // A plain object literal, as a caller might pass: the lookup itself must not reach its prototype.
  const secrets = { other: 'x' };
  const issues = checkBootMappings(farm, layout, secrets);
  assert.ok(issues.some((i) => /no secret "toString"/.test(i.message)), JSON.stringify(issues));
  assert.ok(issues.some((i) => /no variable "constructor"/.test(i.message)), JSON.stringify(issues));
  assert.throws(() => renderScript({ farm, layout, secrets, clientName: 'dut1', client: farm.clients.dut1, profileName: 's' }), (e) => e instanceof RenderError && /no secret "toString"/.test(e.message));
  assert.throws(() => renderScript({ farm, layout, secrets, clientName: 'dut2', client: { macs: [], vars: {} }, profileName: 'v' }), (e) => e instanceof RenderError && /no variable "constructor"/.test(e.message));
  assert.throws(() => renderScript({ farm, layout, secrets, clientName: 'dut2', profileName: 'constructor' }), (e) => e instanceof RenderError && /not defined/.test(e.message));
});

test('finding 4: a certificate named "constructor" is a client that is not in the farm, not an inherited entry', () => {
  const { farm } = validateFarm(base({}));
  const certs = new CertLookup({ version: 1, nextSerial: '02', records: [record('constructor', '1A', FP1)] });
  const d = selectBoot(farm, certs, { verify: 'SUCCESS', fingerprint: FP1 });
  assert.equal(d.ok, false);
  assert.match(d.ok ? '' : d.reason, /client constructor is not in the farm/);
  assert.deepEqual(certs.ofClient('toString'), []);
});
