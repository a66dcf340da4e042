import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateFarm } from '../../../src/core/farm/validate';
import { checkFarmText } from '../../../src/core/farm/load';

// The farm's zod definition reports its problems in the farm file's own sentences at JSON pointers, and what is right
// in a file with mistakes is still read (the boot service refuses only the broken entries; the editor shows the rest).

const base = () => ({
  name: 'lab',
  profiles: { linux: { kernel: 'vmlinuz' } },
  clients: {
    good: { profile: 'linux', macs: ['52:54:00:00:00:01'] },
    bad: { profile: 'linux', macs: ['52:54:00:00:00:02'], power: { driver: 'pdudaemon', pdu: 'p1' }, console: { driver: 'tcp' } },
  },
});

test('a client with a broken power section is reported and left out; the others are read with their defaults', () => {
  const { farm, issues } = validateFarm(base());
  assert.deepEqual(issues.map((i) => [i.pointer, i.message]), [
    ['/clients/bad/power/outlet', '/clients/bad/power/outlet is missing: the PDU port number the board is plugged into.'],
    ['/clients/bad/console/port', "/clients/bad/console/port is missing: the console server's TCP port for this board."],
  ]);
  assert.deepEqual(farm.clients.good, { profile: 'linux', macs: ['52:54:00:00:00:01'], vars: {} });
  assert.equal(farm.clients.bad?.power, undefined, 'the broken section is not guessed');
  assert.equal(farm.nginx.container, 'ipxe-farm-lab', 'a default that follows from the name');
});

test('a wrong farm name does not hide the problems in the rest of the file', () => {
  const f = { ...base(), name: 'Lab 1', server: { httpPort: 8443 } };
  const pointers = validateFarm(f).issues.map((i) => i.pointer);
  assert.ok(pointers.includes('/name'));
  assert.ok(pointers.includes('/server/httpPort'), 'the cross check on ports still ran');
  assert.ok(pointers.includes('/clients/bad/power/outlet'));
});

test('a value of the wrong type is one sentence at its pointer, and the text position is that member', () => {
  const text = '{\n  "name": "lab",\n  "qemu": {\n    "memoryMiB": "lots"\n  },\n  "clients": { "a/b": { "macs": [] } }\n}\n';
  const { issues } = checkFarmText(text);
  const mem = issues.find((i) => i.pointer === '/qemu/memoryMiB');
  assert.equal(mem?.message, '/qemu/memoryMiB must be a whole number from 64 to 65536.');
  assert.equal(mem?.at.line, 3);
  const name = issues.find((i) => i.pointer === '/clients/a~1b');
  assert.match(name?.message ?? '', /The client name "a\/b" is not allowed/);
  assert.equal(name?.at.line, 5, 'a name with "/" is escaped in the pointer and still found in the text');
});

test('unknown keys: ignored in a section (the editor underlines them), refused where they were refused before', () => {
  const f = { ...base(), server: { httpport: 80 }, '// why': 'notes are kept', profiles: { linux: { kernel: 'k', secretFiles: [{ path: '/run/a', content: '', '// note': 'x', extra: 1 }] } } };
  assert.deepEqual(validateFarm(f).issues.map((i) => i.pointer), ['/profiles/linux/secretFiles/0/extra', '/clients/bad/power/outlet', '/clients/bad/console/port']);
});

test('a value or key that looks like the sentence templates ("%at", "$&") is quoted as written, never filled in', () => {
  const { issues } = validateFarm({ ...base(), clients: { good: { macs: ['%at'] } }, profiles: { linux: { kernel: 'k', arches: { '$&': 3 } } } });
  assert.ok(issues.some((i) => i.pointer === '/clients/good/macs/0' && i.message === '"%at" is not a MAC address (write it as 52:54:00:12:34:56).'), JSON.stringify(issues));
  assert.ok(issues.some((i) => i.pointer === '/profiles/linux/arches/$&' && i.message.startsWith('/profiles/linux/arches/$& ')), JSON.stringify(issues));
});
