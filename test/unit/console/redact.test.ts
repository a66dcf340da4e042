import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StreamRedactor } from '../../../src/core/console/redact';
import { TelnetFilter } from '../../../src/core/console/telnet';

test('a secret split across console chunks anywhere is still masked, and nothing else is lost', () => {
  const secret = 'hunter2-Secret';
  fc.assert(fc.property(fc.string(), fc.string(), fc.array(fc.nat(40), { maxLength: 6 }), (a, b, cuts) => {
    fc.pre(!(a + b).includes('hunter'));
    const text = `${a}${secret}${b}`;
    const r = new StreamRedactor({ s: secret });
    const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((x, y) => x - y);
    let out = '';
    let last = 0;
    for (const p of [...points, text.length]) { out += r.push(text.slice(last, p)); last = p; }
    out += r.flush();
    assert.ok(!out.includes(secret));
    assert.equal(out, `${a}••••••${b}`);
  }));
});

test('telnet: negotiation is refused and stripped, a doubled 0xff is one data byte', () => {
  const f = new TelnetFilter();
  const r = f.feed(Buffer.from([0x41, 255, 251, 1, 0x42, 255, 253, 3, 255, 255, 0x43, 255, 250, 24, 1, 255, 240, 0x44]));
  assert.deepEqual([...r.data], [0x41, 0x42, 255, 0x43, 0x44]);
  assert.deepEqual([...r.reply], [255, 254, 1, 255, 252, 3]);
});
