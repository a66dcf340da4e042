import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import forge from 'node-forge';
import { digestFile } from '../../../src/core/pki/cms';

// The signature is over this digest: forge's JavaScript SHA-256 (the reference) and the streamed native hash must
// give the same bytes, including across the 1 MiB chunk boundary and for an empty file.
test('digestFile gives forge SHA-256 bytes for empty, small and multi-chunk files', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cms-digest-'));
  for (const size of [0, 1, 65_537, (1 << 20) + 3, 3 * (1 << 20)]) {
    const data = randomBytes(size);
    const file = path.join(dir, `f${size}`);
    writeFileSync(file, data);
    const md = forge.md.sha256.create();
    md.update(data.toString('binary'));
    assert.equal(await digestFile(file), md.digest().getBytes(), `size ${size}`);
  }
});
