import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { starterFarm } from '../../../src/core/farm/model';
import { validateFarm } from '../../../src/core/farm/validate';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
type S = Record<string, any>;
const schema = JSON.parse(readFileSync(path.join(repo, 'schemas', 'ipxe-farm.schema.json'), 'utf8')) as S;

/** The JSON Schema subset the farm schema uses, enough to compare it with validateFarm (the editor uses the real one). */
function check(s: S, v: unknown, at = ''): string[] {
  if (s.$ref) return check(s.$ref.slice(2).split('/').reduce((o: S, k: string) => o[k], schema), v, at);
  const errs: string[] = [];
  if (s.oneOf) {
    const { oneOf, ...rest } = s;
    const fits = (oneOf as S[]).filter((alt) => check({ ...rest, ...alt, properties: alt.properties }, v, at).length === 0).length;
    return fits === 1 ? [] : [`${at}: fits ${fits} of the ${oneOf.length} forms, not exactly one`];
  }
  const type = Array.isArray(v) ? 'array' : v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v;
  if (s.type && !(s.type === type || (s.type === 'number' && type === 'integer'))) return [`${at}: ${type} is not ${s.type}`];
  if ('const' in s && v !== s.const) errs.push(`${at}: not ${s.const}`);
  if (s.enum && !s.enum.includes(v)) errs.push(`${at}: ${String(v)} not in enum`);
  if (s.allOf) for (const alt of s.allOf as S[]) errs.push(...check(alt, v, at));
  if (s.anyOf && !s.anyOf.some((alt: S) => check(alt, v, at).length === 0)) errs.push(`${at}: matches none of anyOf`);
  if (typeof v === 'string') {
    if (s.pattern && !new RegExp(s.pattern).test(v)) errs.push(`${at}: "${v}" does not match`);
    if (s.minLength && v.length < s.minLength) errs.push(`${at}: too short`);
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) errs.push(`${at}: below minimum`);
    if (s.maximum !== undefined && v > s.maximum) errs.push(`${at}: above maximum`);
  }
  if (Array.isArray(v)) {
    if (s.items) v.forEach((x, i) => errs.push(...check(s.items, x, `${at}/${i}`)));
    if (s.uniqueItems && new Set(v.map((x) => JSON.stringify(x))).size !== v.length) errs.push(`${at}: duplicates`);
  }
  if (type === 'object') {
    const o = v as S;
    for (const r of s.required ?? []) if (!(r in o)) errs.push(`${at}: ${r} is required`);
    for (const [k, x] of Object.entries(o)) {
      if (s.propertyNames) errs.push(...check(s.propertyNames, k, `${at}/${k} (name)`));
      if (s.properties?.[k]) { errs.push(...check(s.properties[k], x, `${at}/${k}`)); continue; }
      const pat = Object.entries((s.patternProperties ?? {}) as S).find(([p]) => new RegExp(p).test(k));
      if (pat) { errs.push(...check(pat[1], x, `${at}/${k}`)); continue; }
      if (s.additionalProperties === false) errs.push(`${at}/${k}: not allowed`);
      else if (typeof s.additionalProperties === 'object') errs.push(...check(s.additionalProperties, x, `${at}/${k}`));
    }
  }
  return errs;
}

function sample(): S {
  const f = starterFarm('lab') as unknown as S;
  f.profiles = { linux: { kernel: 'vmlinuz', initrds: ['initrd.img'], cmdline: 'console=ttyS0 pw={{secret.pw}}', verify: true, extra: [] } };
  f.clients = {
    dut1: { profile: 'linux', macs: ['52:54:00:12:34:56'], vars: { role: 'ci' } },
    rack1: { profile: 'linux', macs: [], vars: { relay: '3' }, power: { driver: 'pdudaemon', host: '127.0.0.1', port: 16421, pdu: 'pdu1', outlet: 2 }, console: { driver: 'tcp', host: '127.0.0.1', port: 2001, protocol: 'raw' } },
    bmc1: { macs: [], vars: {}, power: { driver: 'ipmi', host: 'bmc1.lab', port: 623, user: 'admin', passwordSecret: 'bmc-pw', cipherSuite: 3 }, console: { driver: 'serial', device: '/dev/ttyUSB0', baud: 115200 } },
    plug1: { macs: [], vars: { plug: 'p1' }, power: { driver: 'command', on: ['plug', '{{client.vars.plug}}', 'on'], off: ['plug', '{{client.vars.plug}}', 'off'], timeoutSeconds: 10 } },
  };
  f.defaultProfile = 'linux';
  f.$schema = './schemas/ipxe-farm.schema.json';
  return f;
}

test('the schema accepts the starter farm and a farm with profiles and clients, as validateFarm does', () => {
  assert.deepEqual(check(schema, starterFarm('lab')), []);
  assert.deepEqual(check(schema, sample()), []);
  assert.deepEqual(validateFarm(sample()).issues, []);
});

test('the schema describes every field of the farm model (a new field without schema fails here)', () => {
  const f = sample();
  for (const section of ['ca', 'server', 'nginx', 'ipxe', 'qemu']) {
    const props = Object.keys(schema.properties[section].properties);
    for (const key of Object.keys(f[section])) assert.ok(props.includes(key), `schema has ${section}.${key}`);
  }
  for (const key of ['kernel', 'initrds', 'cmdline', 'verify', 'extra', 'description']) assert.ok(key in schema.definitions.profile.properties);
  for (const key of ['profile', 'macs', 'vars', 'description', 'arch', 'power', 'console']) assert.ok(key in schema.definitions.client.properties);
  assert.ok('arches' in schema.definitions.profile.properties);
  for (const key of Object.keys(f)) assert.ok(key in schema.properties, `schema has ${key}`);
});

const BAD: Array<[string, (f: S) => void]> = [
  ['an unknown nginx runtime', (f) => { f.nginx.runtime = 'docker'; }],
  ['a 1024-bit CA key', (f) => { f.ca.keyBits = 1024; }],
  ['a MAC that is not one', (f) => { f.clients.dut1.macs = ['52:54:00:zz:34:56']; }],
  ['a client name with spaces', (f) => { f.clients['Bad Name'] = { macs: [] }; }],
  ['a port above 65535', (f) => { f.server.httpsPort = 70000; }],
  ['an unknown image target', (f) => { f.ipxe.targets = ['floppy']; }],
  ['too little QEMU memory', (f) => { f.qemu.memoryMiB = 1; }],
  ['a profile without a kernel', (f) => { f.profiles.bare = { initrds: [] }; }],
  ['a non-string client variable', (f) => { f.clients.dut1.vars = { n: 3 }; }],
  ['a future farm version', (f) => { f.version = 2; }],
  ['an unknown power driver', (f) => { f.clients.dut1.power = { driver: 'redfish' }; }],
  ['a pdudaemon outlet without its number', (f) => { delete f.clients.rack1.power.outlet; }],
  ['an IPMI power without its password secret', (f) => { delete f.clients.bmc1.power.passwordSecret; }],
  ['a power command given as one shell string', (f) => { f.clients.plug1.power.on = 'plug p1 on'; }],
  ['an unknown console driver', (f) => { f.clients.dut1.console = { driver: 'ssh' }; }],
  ['a serial console at a non-standard baud rate', (f) => { f.clients.bmc1.console.baud = 12345; }],
  ['a tcp console without a port', (f) => { delete f.clients.rack1.console.port; }],
  ['an unknown client architecture', (f) => { f.clients.dut1.arch = 'mips-efi'; }],
  ['a kernel for an unknown CPU', (f) => { f.profiles.linux.arches = { sparc: { kernel: 'k' } }; }],
  ['an architecture entry without a kernel', (f) => { f.profiles.linux.arches = { arm64: { initrds: [] } }; }],
];

test('the schema and validateFarm both accept an arm64 client whose profile has an arm64 kernel', () => {
  const f = sample();
  f.profiles.linux.arches = { arm64: { kernel: 'arm64/vmlinuz', initrds: ['arm64/initrd.gz'], cmdline: 'console=ttyAMA0' } };
  f.clients.board = { arch: 'arm64-efi', profile: 'linux', macs: [], vars: {} };
  f.profiles.armonly = { arches: { arm64: { kernel: 'arm64/vmlinuz' } } };
  assert.deepEqual(check(schema, f), []);
  assert.deepEqual(validateFarm(f).issues, []);
});

for (const [what, change] of BAD) {
  test(`the schema and validateFarm both reject ${what}`, () => {
    const f = sample();
    change(f);
    assert.ok(check(schema, f).length > 0, 'the schema lets it through');
    assert.ok(validateFarm(f).issues.some((i) => i.severity === 'error'), 'validateFarm lets it through');
  });
}

test('notes (keys starting with // or _) are allowed, typos in a section are flagged by the schema', () => {
  const f = sample();
  f['// why'] = 'lab 3 farm';
  assert.deepEqual(check(schema, f), []);
  f.server.httpport = 80;
  assert.ok(check(schema, f).some((e) => e.includes('httpport')));
});
