import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { which } from '../../support/farm';
import { makeEfiStick } from '../../../src/core/ipxe/fatImage';

// The one EFI stick builder (built, assembled and stock images all use it), checked with mtools itself: the boot file
// each CPU's firmware looks for, the autoexec beside it, byte for byte, and a 0600 image sized for the binary.

function read(img: string, file: string): Buffer {
  return execFileSync('mtype', ['-i', img, file], { maxBuffer: 64 << 20 });
}

test('an EFI stick holds the binary under the CPU\'s boot file name and the autoexec beside it, byte for byte', (t) => {
  if (!which('mformat') || !which('mtype')) return t.skip('SKIPPED LOUDLY: mtools is not installed, so no EFI stick can be made');
  return (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'efi-stick-'));
    const efi = path.join(dir, 'ipxe.efi');
    const autoexec = path.join(dir, 'autoexec.ipxe');
    writeFileSync(efi, Buffer.concat([Buffer.from('MZ'), randomBytes(3 << 20)]));
    writeFileSync(autoexec, '#!ipxe\nset cert 30:82\n');
    for (const [cpu, bootFile] of [['x86_64', 'BOOTX64.EFI'], ['arm64', 'BOOTAA64.EFI']] as const) {
      const img = path.join(dir, `${cpu}.img`);
      await makeEfiStick(img, { efi, cpu, autoexec });
      assert.equal(statSync(img).mode & 0o777, 0o600, 'it may hold a private key');
      assert.equal(statSync(img).size, 9 << 20, 'twice the binary plus 2 MiB, at least 8 MiB');
      assert.deepEqual(read(img, `::/EFI/BOOT/${bootFile}`), readFileSync(efi), cpu);
      assert.deepEqual(read(img, '::/EFI/BOOT/autoexec.ipxe'), readFileSync(autoexec), cpu);
      const listing = execFileSync('mdir', ['-i', img, '-b', '::/EFI/BOOT'], { encoding: 'utf8' }).trim().split('\n').map((l) => path.basename(l)).sort();
      assert.deepEqual(listing, [bootFile, 'autoexec.ipxe'].sort(), cpu);
    }
    const bare = path.join(dir, 'bare.img');
    await makeEfiStick(bare, { efi, cpu: 'x86_64' });
    assert.deepEqual(execFileSync('mdir', ['-i', bare, '-b', '::/EFI/BOOT'], { encoding: 'utf8' }).trim().split('\n').map((l) => path.basename(l)), ['BOOTX64.EFI']);
    await assert.rejects(makeEfiStick(bare, { efi, cpu: 'x86_64' }), /EEXIST/, 'never written over: the caller renames a finished stick into place');
  })();
});
