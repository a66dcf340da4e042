import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDebug, chosenDebug, MAKE_TARGETS, NAMED_CONFIG } from '../../../src/core/ipxe/build';
import { starterFarm } from '../../../src/core/farm/model';
import { imageFiles, clientOutDir } from '../../../src/core/ipxe/manifest';
import { farmLayout } from '../../../src/core/farm/layout';
import { FarmError, UsageError } from '../../../src/core/errors';

test('DEBUG= takes object names with optional levels and nothing else', () => {
  assert.equal(checkDebug('tls,x509:3,certstore,privkey'), 'tls,x509:3,certstore,privkey');
  assert.equal(checkDebug(''), undefined);
  assert.equal(checkDebug(undefined), undefined);
  for (const bad of ['tls x509', 'tls;rm -rf /', 'tls,', '$(shell id)', 'a:b']) {
    assert.throws(() => checkDebug(bad), (e: unknown) => e instanceof FarmError && /DEBUG value/.test(e.message), bad);
  }
});

test('a bad --debug is a usage error; a bad ipxe.debug is the farm file\'s bad value, named', () => {
  const farm = starterFarm('farm');
  farm.ipxe.debug = 'tls;id';
  assert.throws(() => chosenDebug('tls x509', farm), (e: unknown) => e instanceof UsageError && /DEBUG value "tls x509"/.test(e.message));
  assert.throws(() => chosenDebug(undefined, farm), (e: unknown) => e instanceof FarmError && !(e instanceof UsageError) && e.code === 'EBADVALUE' && /ipxe\.debug "tls;id" in ipxe-farm\.json/.test(e.message));
  assert.equal(chosenDebug('tls', farm), 'tls', 'the option wins over the farm value');
  farm.ipxe.debug = 'x509:3';
  assert.equal(chosenDebug(undefined, farm), 'x509:3');
});

test('targets map to the make goals and output names the QEMU side reads', () => {
  assert.deepEqual(MAKE_TARGETS, { iso: 'bin/ipxe.iso', usb: 'bin/ipxe.usb', efi: 'bin-x86_64-efi/ipxe.efi' });
  assert.deepEqual(imageFiles('iso'), ['ipxe.iso']);
  assert.deepEqual(imageFiles('usb'), ['ipxe.usb']);
  assert.deepEqual(imageFiles('efi'), ['ipxe.efi', 'ipxe-efi.img']);
  assert.equal(NAMED_CONFIG, 'ipxefarm');
});

test('the output folder is ipxe/<client>/out and a client name cannot walk out of it', () => {
  const layout = farmLayout('/farm');
  assert.equal(clientOutDir(layout, 'dut1'), '/farm/ipxe/dut1/out');
  for (const bad of ['../x', 'a/b', '', 'UPPER']) assert.throws(() => clientOutDir(layout, bad), FarmError, bad);
});
