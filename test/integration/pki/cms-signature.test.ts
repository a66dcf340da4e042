import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openSync, writeSync, closeSync, writeFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { pkiPaths, signFile, renew } from '../../../src/core/pki';
import { farmWithPki, openssl, opensslMissing, says } from '../../support/pki';
import { openFarm } from '../../../src/core/farm/handle';

const verify = (ca: string, file: string, sig: string) =>
  openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', sig, '-content', file, '-CAfile', ca, '-purpose', 'any', '-out', '/dev/null']);

test('sign FILE writes FILE.sig that openssl cms -verify accepts, and a tampered file is rejected', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  const kernel = path.join(farmLayout(root).files, 'vmlinuz');
  writeFileSync(kernel, randomBytes(300_000));
  const sig = await signFile(await openFarm(root), kernel);
  assert.equal(sig, `${kernel}.sig`);
  const ok = verify(p.caCert, kernel, sig);
  assert.equal(ok.status, 0, ok.out);
  assert.match(ok.out, /Verification successful/);
  // Exactly the imgverify shape: detached, no signed attributes, the signer and the CA inside.
  const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', sig]).stdout;
  assert.match(printed, /signedAttrs:\s*\n?\s*<ABSENT>/);
  assert.match(printed, /eContent: <ABSENT>/);
  assert.equal((printed.match(/cert_info:/g) ?? []).length, 2);
  const data = readFileSync(kernel);
  data[12345] = data[12345]! ^ 0x01;
  writeFileSync(kernel, data);
  const bad = verify(p.caCert, kernel, sig);
  assert.notEqual(bad.status, 0);
  assert.match(bad.out, /Verification failure|digest failure/i);
});

test('an 8 MB kernel is signed by streaming it; openssl agrees; a renewed code-signing cert signs too', async (t) => {
  const skip = opensslMissing();
  if (skip) return t.skip(skip);
  const root = await farmWithPki();
  const p = pkiPaths(farmLayout(root));
  const kernel = path.join(farmLayout(root).files, 'big-kernel');
  const fd = openSync(kernel, 'w');
  for (let i = 0; i < 8; i++) writeSync(fd, randomBytes(1 << 20));
  closeSync(fd);
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const out = path.join(root, 'sig.der');
  await signFile(await openFarm(root), kernel, { out });
  const ms = performance.now() - t0;
  t.diagnostic(`8 MiB signed in ${ms.toFixed(0)} ms, heap grew ${((process.memoryUsage().heapUsed - heapBefore) / 1048576).toFixed(1)} MiB`);
  assert.equal(verify(p.caCert, kernel, out).status, 0);
  await renew(await openFarm(root), 'codesign');
  const sig2 = await signFile(await openFarm(root), kernel);
  assert.equal(verify(p.caCert, kernel, sig2).status, 0);
});

test('signing refuses a missing file and a farm without a code-signing certificate, in one sentence', async () => {
  const root = await farmWithPki();
  await assert.rejects(signFile(await openFarm(root), path.join(root, 'nope')), says(/does not exist or is not a file/));
  const { tempFarm } = await import('../../support/farm');
  const { initCa } = await import('../../../src/core/pki');
  const bare = await tempFarm();
  await initCa(await openFarm(bare));
  writeFileSync(path.join(bare, 'f'), 'x');
  await assert.rejects(signFile(await openFarm(bare), path.join(bare, 'f')), says(/no code-signing certificate\. Run `ipxe-farm issue codesign`/));
});
