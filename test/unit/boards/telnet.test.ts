import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TelnetFilter } from '../../../src/core/console/telnet';

test('telnet: negotiation is refused and stripped, a doubled 0xff is one data byte', () => {
  const f = new TelnetFilter();
  const r = f.feed(Buffer.from([0x41, 255, 251, 1, 0x42, 255, 253, 3, 255, 255, 0x43, 255, 250, 24, 1, 255, 240, 0x44]));
  assert.deepEqual([...r.data], [0x41, 0x42, 255, 0x43, 0x44]);
  assert.deepEqual([...r.reply], [255, 254, 1, 255, 252, 3]);
});
