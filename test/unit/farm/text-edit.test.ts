import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initFarm } from '../../../src/core/farm/init';
import { checkFarmText, updateFarm } from '../../../src/core/farm/load';
import { editJsonText } from '../../../src/core/farm/textEdit';

// A farm file as a person formats it: 4-space indent, a one-line list, keys in their own order, a $schema key.
const handMade = `{
    "$schema": "./schemas/ipxe-farm.schema.json",
    "name": "lab",
    "version": 1,
    "server": { "address": "10.0.2.2", "names": ["localhost", "127.0.0.1"], "httpsPort": 8443, "httpPort": 8080 },
    "profiles": {
        "linux": { "kernel": "vmlinuz", "initrds": ["initrd.img"], "cmdline": "console=ttyS0" }
    },
    "clients": {
        "dut1": { "profile": "linux", "macs": [] },
        "dut2": { "macs": [] }
    }
}
`;

test('an update rewrites only the lines it changes and keeps the hand-made layout', async () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'farm-edit-')), 'lab');
  await initFarm(dir, { name: 'lab' });
  const file = path.join(dir, 'ipxe-farm.json');
  writeFileSync(file, handMade);
  assert.ok(checkFarmText(handMade).farm, 'the hand-made file loads');
  await updateFarm(dir, (raw) => {
    ((raw.clients as Record<string, Record<string, unknown>>).dut2!).profile = 'linux';
  });
  const after = readFileSync(file, 'utf8');
  const a = handMade.split('\n');
  const b = after.split('\n');
  assert.equal(b.length, a.length, after);
  const changed = a.map((l, i) => (l === b[i] ? -1 : i)).filter((i) => i >= 0);
  assert.deepEqual(changed, [10], `only dut2's line changes:\n${after}`);
  assert.match(b[10]!, /^ {8}"dut2": \{ "macs": \[\], "profile": "linux" \}$/);
});

test('a new member takes the indentation of the file; a removed one leaves no trace', () => {
  const text = '{\n    "a": 1,\n    "b": { "c": 2 }\n}\n';
  const added = editJsonText(text, { a: 1, b: { c: 2 } }, { a: 1, b: { c: 2 }, d: [1, 2] });
  assert.deepEqual(JSON.parse(added), { a: 1, b: { c: 2 }, d: [1, 2] });
  assert.match(added, /\n {4}"d": \[/);
  assert.ok(added.startsWith('{\n    "a": 1,\n    "b": { "c": 2 }'), added);
  const removed = editJsonText(text, { a: 1, b: { c: 2 } }, { b: { c: 2 } });
  assert.deepEqual(JSON.parse(removed), { b: { c: 2 } });
  assert.match(removed, /^\{\n {4}"b": \{ "c": 2 \}\n\}\n$/);
});

test('a syntax error is placed at its line and column by the position-aware parser', () => {
  const { issues } = checkFarmText('{\n  "name": "x",\n  "version": 1,,\n}\n');
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.at.line, 2);
  assert.equal(issues[0]!.at.column, 15);
  assert.match(issues[0]!.message, /not valid JSON: .* at line 3, column 16/);
});
