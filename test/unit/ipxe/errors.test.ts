import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeIpxeError, describeIpxeError, findIpxeErrors, parseIpxeErrorCode } from '../../../src/core/ipxe/errors';
import { FarmError } from '../../../src/core/errors';

test('every code DESIGN.md lists decodes to its errno, file and the farm cause', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['0216eb3c', 'EACCES', 'x509', /No usable certificates/],
    ['0216e43c', 'EACCES', 'x509', /Expired/],
    ['0216ea3c', 'EACCES', 'x509', /Incorrect certificate name/],
    ['410de33c', 'EPERM', 'tls', /client certificate/],
    ['410de13c', 'EPERM', 'tls', /fatal alert/],
    ['1d0c6439', 'EIO', 'httpcore', /4xx/],
    ['3c092083', 'ENOTSUP', 'open', /not supported/i],
    ['0227e13c', 'EACCES', 'rsa', /signature incorrect/],
  ];
  for (const [code, errno, file, message] of cases) {
    const info = decodeIpxeError(code);
    assert.equal(info.code, code);
    assert.equal(info.errno, errno, code);
    assert.equal(info.file, file, code);
    assert.match(info.message, message, code);
    assert.equal(info.known, true, code);
    assert.ok(info.cause && info.fix, `${code} has a cause and a fix`);
    assert.equal(info.url, `https://ipxe.org/${code}`);
  }
});

test('bit layout: errno, file, disambiguator and firmware byte are split as iPXE packs them', () => {
  const info = decodeIpxeError('0216eb3c');
  assert.equal(info.uniq, 0x0b);
  assert.equal(info.platform, 0x3c);
  // The same failure in an EFI build differs only in the last byte and must decode the same way.
  const efi = decodeIpxeError('0216eb8f');
  assert.equal(efi.message, info.message);
  assert.equal(efi.cause, info.cause);
  assert.equal(efi.platform, 0x8f);
});

test('accepted spellings: bare hex, 0x prefix, upper case, the ipxe.org URL', () => {
  for (const s of ['0216eb3c', '0x0216EB3C', 'https://ipxe.org/0216eb3c', 'http://ipxe.org/err/0216eb3c', ' 216eb3c ']) {
    assert.equal(parseIpxeErrorCode(s), 0x0216eb3c, s);
  }
  assert.equal(parseIpxeErrorCode('hello'), undefined);
  assert.equal(parseIpxeErrorCode('123456789'), undefined);
});

test('garbage is refused with one sentence that shows the right form', () => {
  for (const bad of ['zzz', '', '00000000', 'ffffffff']) {
    assert.throws(() => decodeIpxeError(bad), (e: unknown) => e instanceof FarmError && /not an iPXE error code/.test(e.message) && /0216eb3c/.test(e.fix ?? ''));
  }
});

test('an unknown disambiguator still names errno and file, and says there is no farm explanation', () => {
  const info = decodeIpxeError('0216f33c'); // x509, EACCES, disambiguator 0x13: not a real one
  assert.equal(info.errno, 'EACCES');
  assert.equal(info.file, 'x509');
  assert.equal(info.known, false);
  assert.equal(info.cause, undefined);
  assert.match(describeIpxeError(info), /No farm-specific explanation/);
  const strange = decodeIpxeError('1d7fe03c');
  assert.match(strange.file, /^file 0x/);
});

test('a DHCP timeout is explained whatever its disambiguator', () => {
  const info = decodeIpxeError('4c106035');
  assert.equal(info.errno, 'ETIMEDOUT');
  assert.equal(info.file, 'dhcp');
  assert.match(info.cause ?? '', /DHCP/);
});

test('findIpxeErrors picks codes out of a serial log, with the line they were printed on', () => {
  const log = [
    'iPXE 2.0.0 -- Open Source Network Boot Firmware',
    'net0: 52:54:00:12:34:56 using virtio-net on 0000:00:03.0 (Ethernet) [open]',
    'Configuring (net0 52:54:00:12:34:56)...... ok',
    'https://10.0.2.100:8443/boot.ipxe... \x1b[31mPermission denied (https://ipxe.org/0216eb3c)\x1b[0m',
    'Could not boot: Permission denied (https://ipxe.org/0216eb3c)',
    'memory at 0x0009a000 is not an error',
    'Error 0x410de33c while connecting',
  ].join('\r\n');
  const found = findIpxeErrors(log);
  assert.deepEqual(found.map((f) => [f.info.code, f.line]), [['0216eb3c', 3], ['0216eb3c', 4], ['410de33c', 6]]);
  assert.equal(found[0]!.text, 'https://10.0.2.100:8443/boot.ipxe... Permission denied (https://ipxe.org/0216eb3c)');
  assert.equal(found[2]!.info.file, 'tls');
  assert.deepEqual(findIpxeErrors('all good\nbooting linux'), []);
});
