import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultTarget, makeTargetFor, sharedScript } from '../../../src/core/ipxe/build';
import { identityScript } from '../../../src/core/ipxe/assemble';
import { IDENTITY_IMAGE } from '../../../src/core/ipxe/script';
import { starterFarm } from '../../../src/core/farm/model';
import { FarmError } from '../../../src/core/errors';

test('arm64 is cross-built as the all-drivers ipxe.efi with CROSS= (never ARCH=); x86_64 as before; no BIOS image for arm64', () => {
  assert.deepEqual(makeTargetFor('efi', 'arm64'), { target: 'bin-arm64-efi/ipxe.efi', vars: ['CROSS=aarch64-linux-gnu-'] });
  assert.deepEqual(makeTargetFor('iso', 'x86_64'), { target: 'bin/ipxe.iso', vars: [] });
  assert.throws(() => makeTargetFor('iso', 'arm64'), (e: unknown) => e instanceof FarmError && e.code === 'EBADVALUE' && /UEFI only/.test(e.message));
  const farm = starterFarm('lab');
  farm.clients = { pc: { macs: [], vars: {} }, board: { arch: 'arm64-efi', macs: [], vars: {} }, uefi: { arch: 'x86_64-efi', macs: [], vars: {} }, old: { arch: 'x86_64-bios', macs: [], vars: {} } };
  assert.equal(defaultTarget(farm, 'pc'), 'iso');
  assert.equal(defaultTarget(farm, 'board'), 'efi');
  assert.equal(defaultTarget(farm, 'uefi'), 'efi');
  farm.ipxe.targets = ['efi', 'usb'];
  assert.equal(defaultTarget(farm, 'pc'), 'efi', 'no arch: the farm\'s first target, as before');
  assert.equal(defaultTarget(farm, 'old'), 'usb');
});

test('the shared script runs and frees the identity image, names no client, and stops with a sentence without one', () => {
  const farm = starterFarm('lab');
  const s = sharedScript(farm, 'lkrn', { onFailure: 'poweroff' });
  assert.match(s, /^imgexec <INITRD> && imgfree <INITRD> \|\|$/m);
  assert.doesNotMatch(s, /autoexec/, 'a BIOS image does not look for an EFI file (it would be fetched as a URL)');
  assert.match(sharedScript(farm, 'efi'), /^imgexec autoexec\.ipxe && imgfree autoexec\.ipxe \|\|$/m);
  assert.equal(IDENTITY_IMAGE.efi, 'autoexec.ipxe');
  assert.match(s, /^echo iPXE Farm: client \$\{farm_client\}, boot server https:\/\/10\.0\.2\.2:8443\/boot\.ipxe$/m);
  assert.match(s, /^isset \$\{farm_client\} \|\| goto farm_failed$/m);
  assert.doesNotMatch(s, /client shared\b/);
  // The identity comes before anything is fetched.
  assert.ok(s.indexOf('imgexec') < s.indexOf('dhcp'));
});

test('an identity script sets the client name, its certificate and key as iPXE hex', () => {
  const s = identityScript('dut7', Buffer.from([0x30, 0x82, 0x01]), Buffer.from([0xab, 0x0c]));
  assert.equal(s, '#!ipxe\n# iPXE Farm: the identity of client dut7. It holds the client\'s private key: keep this image private.\nset farm_client dut7\nset cert 30:82:01\nset privkey ab:0c\n');
});
