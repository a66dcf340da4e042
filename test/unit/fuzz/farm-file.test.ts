import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkFarmText } from '../../../src/core/farm/load';
import { NAME_PATTERN, starterFarm } from '../../../src/core/farm/model';
import { normaliseMac } from '../../../src/core/farm/validate';
import { isHostName } from '../../../src/core/net/hostName';
import { assertSentence, FUZZ, macArb, riskyArb } from './support';

// Fuzzing the farm file (issue 13): any text either loads into a farm whose names, addresses and MACs are what the
// rest of the product assumes, or is refused with sentences at JSON positions. Never a crash.

const risky = riskyArb;
const value = fc.oneof(risky, fc.integer(), fc.boolean(), fc.constant(null), fc.array(risky, { maxLength: 3 }), fc.dictionary(risky, risky, { maxKeys: 2 }));

/** The starter farm with a few fields replaced by generated values, plus generated clients and profiles. */
const farmText = fc.record({
  address: fc.oneof(value, fc.ipV4(), fc.ipV6(), fc.domain()),
  names: fc.array(fc.oneof(risky, fc.ipV4(), fc.domain()), { maxLength: 3 }),
  port: fc.oneof(fc.integer({ min: -5, max: 70000 }), risky),
  clients: fc.dictionary(risky, fc.record({ profile: fc.oneof(risky, fc.constant('linux')), macs: fc.array(fc.oneof(risky, macArb), { maxLength: 2 }), vars: fc.dictionary(risky, value, { maxKeys: 2 }) }, { requiredKeys: [] }), { maxKeys: 3 }),
  profiles: fc.dictionary(fc.oneof(risky, fc.constant('linux')), fc.record({ kernel: value, initrds: value, cmdline: value, verify: value, extra: value }, { requiredKeys: [] }), { maxKeys: 2 }),
}).map((g) => {
  const farm = starterFarm('fuzz') as unknown as Record<string, Record<string, unknown>>;
  Object.assign(farm.server!, { address: g.address, names: g.names, httpsPort: g.port });
  farm.clients = g.clients as unknown as Record<string, unknown>;
  farm.profiles = g.profiles as unknown as Record<string, unknown>;
  return JSON.stringify(farm, null, 2);
});

test('fuzz: a generated farm file loads clean or is refused with sentences at positions; never a crash', () => {
  fc.assert(fc.property(fc.oneof(farmText, farmText.map((t) => t.slice(0, t.length >> 1))), (text) => {
    const r = checkFarmText(text);
    const errors = r.issues.filter((i) => i.severity === 'error');
    for (const e of errors) {
      assertSentence(e.message, []);
      assert.ok(e.at.line >= 0 && e.at.line <= text.split('\n').length, 'the position is inside the text');
      if (e.pointer) assert.match(e.pointer, /^\//);
    }
    if (errors.length) return;
    const farm = r.farm!;
    assert.ok(isHostName(farm.server.address), farm.server.address);
    for (const n of farm.server.names) assert.ok(isHostName(n), n);
    for (const [name, c] of Object.entries(farm.clients)) {
      assert.match(name, NAME_PATTERN);
      for (const m of c.macs) assert.equal(normaliseMac(m), m, 'MACs are kept in iPXE form');
      if (c.profile !== undefined) assert.ok(Object.hasOwn(farm.profiles, c.profile), `profile ${c.profile} exists`);
    }
    for (const name of Object.keys(farm.profiles)) assert.match(name, NAME_PATTERN);
  }), FUZZ);
});

test('fuzz: MACs in any spelling are a MAC in iPXE form or refused, never half-normalised', () => {
  fc.assert(fc.property(fc.oneof(macArb, macArb.map((m) => m.toUpperCase().replace(/:/g, '-')), risky, fc.string({ maxLength: 20 })), (mac) => {
    const n = normaliseMac(mac);
    if (n !== undefined) assert.match(n, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  }), FUZZ);
});
