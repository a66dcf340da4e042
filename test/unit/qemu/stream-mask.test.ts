import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LOG_MASK, maskValues, StreamMasker } from '../../../src/core/secrets/mask';

// The live console of a QEMU boot arrives in arbitrary chunks: a secret split across chunks must still be masked.

test('a secret cut at every position across two chunks is masked, and nothing is lost', () => {
  const secret = 's3-Abc123xyz';
  const text = `cmdline: farm.s3=${secret} done\n`;
  for (let cut = 0; cut <= text.length; cut++) {
    const m = new StreamMasker([secret]);
    const shown = m.push(text.slice(0, cut)) + m.push(text.slice(cut)) + m.flush();
    assert.equal(shown, `cmdline: farm.s3=${LOG_MASK} done\n`, `cut at ${cut}`);
  }
});

test('property: any chunking of any text gives the same as masking it whole, and never shows a secret', () => {
  fc.assert(fc.property(
    // A small alphabet, so secrets overlap, contain each other and are cut often (none can be part of the mask itself).
    fc.array(fc.stringMatching(/^[sxyz01]{1,6}$/), { minLength: 1, maxLength: 3 }),
    fc.array(fc.stringMatching(/^[sxyz01 ]{0,6}$/), { maxLength: 12 }),
    fc.array(fc.nat({ max: 40 }), { maxLength: 6 }),
    (secrets, parts, cuts) => {
      const text = parts.map((p, i) => (i % 2 ? secrets[i % secrets.length]! : p)).join('');
      const m = new StreamMasker(secrets);
      let shown = '';
      let at = 0;
      for (const c of [...cuts].sort((a, b) => a - b)) {
        shown += m.push(text.slice(at, Math.max(at, c)));
        at = Math.max(at, c);
      }
      shown += m.push(text.slice(at)) + m.flush();
      const whole = maskValues(text, secrets, LOG_MASK);
      assert.equal(shown, whole);
      for (const v of secrets) assert.ok(!shown.includes(v) || !text.includes(v) || !whole.includes(v), `shown: ${shown}`);
    },
  ), { numRuns: 500 });
});
