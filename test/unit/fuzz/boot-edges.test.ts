import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import fc from 'fast-check';
import { answer, type BootRequest } from '../../../src/core/boot/handler';
import { loadBootState, type BootState } from '../../../src/core/boot/state';
import { FarmError } from '../../../src/core/errors';
import { farmLayout } from '../../../src/core/farm/layout';
import { checkName } from '../../../src/core/farm/rules';
import { NAME_PATTERN } from '../../../src/core/farm/model';
import { tempFarm } from '../../support/farm';
import { bootFarm, FP1, FP2, FP3 } from '../boot/fixtures';
import { assertSentence, assertWellFormedScript, FUZZ, macArb, riskyArb } from './support';

// Fuzzing the boot edges (issue 13): template values, secrets, client variables, names and the request path. Each
// input either gives a script iPXE runs exactly as meant (one command per line, only the commands the profile has) or
// is refused with a sentence that holds no secret. Never a crash, never a script with something else in it.

const BOOT_VERBS = ['kernel', 'initrd', 'imgverify', 'echo', 'boot'] as const;
const REFUSAL_VERBS = ['echo', 'exit'] as const;
const PLACEHOLDERS = ['{{client.name}}', '{{client.mac}}', '{{client.vars.v}}', '{{secret.s}}', '{{server.http}}', '{{secret.nope}}', '{{bogus}}', 'console=ttyS0 ', 'x='];
/** Names found on every JavaScript object: issue 13 finding 4 (prototype lookups, fixed on branch sec-boot). */
const PROTOTYPE_PLACEHOLDERS = ['{{secret.toString}}', '{{secret.constructor}}', '{{client.vars.toString}}', '{{secret.__proto__}}'];

function request(url: string, headers: Record<string, string[]>, method = 'GET'): BootRequest {
  return { url, method, headersDistinct: headers };
}
const asDut1 = (url: string) => request(url, { 'x-ssl-client-verify': ['SUCCESS'], 'x-ssl-client-fingerprint': [FP1], 'x-ssl-client-serial': ['1A'] });

let root = '';
let baseFarm: Record<string, Record<string, unknown>> = {};

before(async () => {
  root = await tempFarm('fuzz');
  await bootFarm(root);
  baseFarm = JSON.parse(fs.readFileSync(farmLayout(root).farmFile, 'utf8'));
});

/** Write the farm with dut1's profile, variables and the secret as generated; load it as the boot service would. */
async function loadWith(cmdline: string, extra: string[], vars: Record<string, string>, secret: string, macs: string[]): Promise<BootState | FarmError> {
  const farm = structuredClone(baseFarm);
  (farm.profiles as Record<string, unknown>).linux = { kernel: 'vmlinuz', initrds: ['initrd.img'], cmdline, verify: false, extra };
  (farm.clients as Record<string, unknown>).dut1 = { profile: 'linux', macs, vars };
  const layout = farmLayout(root);
  fs.writeFileSync(layout.farmFile, JSON.stringify(farm, null, 2));
  fs.writeFileSync(layout.secrets, JSON.stringify({ version: 1, secrets: { s: secret, token: 'S3cr3t-T0ken/+=' } }), { mode: 0o600 });
  try {
    return await loadBootState(root);
  } catch (err) {
    assert.ok(err instanceof FarmError, `a FarmError, not ${String(err)}`);
    return err;
  }
}

async function templatesProperty(placeholders: string[], varNames: string[], runs: number): Promise<void> {
  const template = fc.array(fc.oneof(riskyArb, fc.constantFrom(...placeholders)), { maxLength: 6 }).map((a) => a.join(''));
  await fc.assert(fc.asyncProperty(
    template, fc.array(template.map((t) => `echo ${t}`), { maxLength: 1 }), fc.dictionary(fc.constantFrom(...varNames), riskyArb, { maxKeys: 2 }),
    riskyArb.map((s) => `Zq9${s}`), fc.array(fc.oneof(macArb, riskyArb), { maxLength: 1 }),
    async (cmdline, extra, vars, secret, macs) => {
      const loaded = await loadWith(cmdline, extra, vars, secret, macs);
      if (loaded instanceof FarmError) { assertSentence(loaded.sentence, [secret]); return; }
      for (const url of ['/boot.ipxe', '/ipxe/52:54:00:12:34:56']) {
        const a = answer(loaded, asDut1(url));
        if (a.status === 200) assertWellFormedScript(a.body, BOOT_VERBS);
        else {
          assertWellFormedScript(a.body, REFUSAL_VERBS);
          assertRefusal(a, [secret]);
        }
      }
    },
  ), { ...FUZZ, numRuns: runs });
}

test('fuzz: templates, client variables, secrets and MACs render to a well-formed script or are refused with a secret-free sentence', async () => {
  await templatesProperty(PLACEHOLDERS, ['v', 'w'], 150);
});

// This fuzz found finding 4 too: `{{secret.toString}}` crashes the load with a TypeError. That finding is fixed on
// branch sec-boot (prototype-safe tables); until it is merged this test says so and skips, then it runs by itself.
test('fuzz: placeholders and variables named like JavaScript object members (finding 4)', async (t) => {
  const probe = await loadWith('{{secret.toString}}', [], {}, 'Zq9probe', []).catch((e: Error) => e);
  if (probe instanceof Error && !(probe instanceof FarmError)) {
    return t.skip(`SKIPPED LOUDLY: {{secret.toString}} still crashes the load (${probe.message.split('\n')[0]}): issue 13 finding 4, fixed on branch sec-boot, is not merged here`);
  }
  await templatesProperty([...PLACEHOLDERS, ...PROTOTYPE_PLACEHOLDERS], ['v', 'toString', 'constructor', '__proto__'], 100);
});

/** A refusal: a script that only echoes its reason and exits, with a reason in the event, and no secret anywhere. */
function assertRefusal(a: ReturnType<typeof answer>, secrets: string[]): void {
  assertWellFormedScript(a.body, REFUSAL_VERBS);
  assert.ok((a.event.reason ?? '').length > 0, 'the event says why');
  for (const s of secrets) assert.ok(!a.body.includes(s) && !(a.event.reason ?? '').includes(s), 'a refusal never carries a secret');
  const said = a.body.split('\n').filter((l) => l.startsWith('echo ')).map((l) => l.slice(5)).join(' ');
  assertSentence(said, secrets);
}

test('fuzz: any request path, method and identity headers get an answer whose body is a well-formed script; refusals hold no secret', async () => {
  // A farm of its own: the property above leaves its last generated (maybe refused) farm file behind.
  const own = await tempFarm('fuzzpath');
  await bootFarm(own);
  const state = await loadBootState(own);
  const secrets = ['S3cr3t-T0ken/+=', 'bbz,,0028ce,K002rf/Phk1mb+q1s'];
  const url = fc.oneof(
    fc.webPath(), fc.constantFrom('/boot.ipxe', '/ipxe', '/why.ipxe', '/ipxe/52:54:00:12:34:56'),
    riskyArb.map((s) => `/ipxe/${s}`), riskyArb.map((s) => `/boot.ipxe?${s}`), fc.string({ maxLength: 300, unit: 'binary-ascii' }),
    macArb.map((m) => `/ipxe/${encodeURIComponent(m)}`), fc.constant(`/ipxe/${'%'.repeat(3)}zz`),
  );
  const one = <T>(a: fc.Arbitrary<T>) => fc.array(a, { minLength: 0, maxLength: 2 });
  await fc.assert(fc.asyncProperty(
    url, fc.constantFrom('GET', 'HEAD', 'POST', 'get', ''),
    one(fc.oneof(fc.constant('SUCCESS'), riskyArb)), one(fc.oneof(fc.constantFrom(FP1, FP2, FP3, FP1.toUpperCase()), riskyArb)), one(fc.oneof(fc.constantFrom('1A', '1B', '1C'), riskyArb)),
    async (u, method, verify, fp, serial) => {
      const a = answer(state, request(u, { 'x-ssl-client-verify': verify, 'x-ssl-client-fingerprint': fp, 'x-ssl-client-serial': serial }, method));
      assert.ok([200, 400, 403, 404, 405, 414, 500].includes(a.status), `status ${a.status}`);
      if (a.status === 200) assertWellFormedScript(a.body, [...BOOT_VERBS, 'exit']);
      else assertRefusal(a, secrets);
    },
  ), FUZZ);
});

test('fuzz: client and secret names are the boring kind or refused with a sentence', () => {
  fc.assert(fc.property(fc.oneof(riskyArb, fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,70}$/), fc.constantFrom('constructor', '__proto__', 'toString')), (name) => {
    for (const check of [(n: string) => checkName('client', n), (n: string) => checkName('secret', n)]) {
      try {
        check(name);
        assert.match(name, NAME_PATTERN, `${JSON.stringify(name)} was accepted`);
      } catch (err) {
        assert.ok(err instanceof FarmError, String(err));
        assertSentence(err.sentence, []);
      }
    }
  }), FUZZ);
});
