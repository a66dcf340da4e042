import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { AAVMF_STORE, enrollTlsCaCertificates, formatBlankStore, guidBytes, GUIDS, listVariables, locateStore, readVariable, setVariable, x509SignatureLists } from '../../../src/core/stock/efiVars';
import { ipxeHex, pemToDer, stockAutoexec } from '../../../src/core/stock/image';
import { FarmError } from '../../../src/core/errors';

/** A blank store shaped like Debian's OVMF_VARS_4M.fd: FV header, authenticated store header, 0xFF, FTW area. */
function blankStore(): Buffer {
  const fd = Buffer.alloc(0x2000, 0xff);
  fd.fill(0, 0, 0x48);
  guidBytes(GUIDS.systemNvDataFv).copy(fd, 0x10);
  fd.writeBigUInt64LE(0x2000n, 0x20);
  fd.write('_FVH', 0x28, 'latin1');
  fd.writeUInt16LE(0x48, 0x30);
  guidBytes(GUIDS.authenticatedVariable).copy(fd, 0x48);
  fd.writeUInt32LE(0x1000, 0x48 + 16);
  fd[0x48 + 20] = 0x5a;
  fd[0x48 + 21] = 0xfe;
  fd.fill(0, 0x48 + 22, 0x48 + 28);
  fd.fill(0x11, 0x1048); // stands for the fault-tolerant-write area after the store
  return fd;
}

const OVMF_VARS = ['/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/share/OVMF/OVMF_VARS.fd'].find((f) => fs.existsSync(f));

test('GUIDs are stored mixed-endian, as EFI does', () => {
  assert.equal(guidBytes('fd2340d0-3dab-4349-a6c7-3b4f12b48eae').toString('hex'), 'd04023fdab3d4943a6c73b4f12b48eae');
});

test('an EFI_SIGNATURE_LIST of one X.509 certificate has the sizes firmware and iPXE walk by', () => {
  const der = Buffer.from('3082aabbcc', 'hex');
  const l = x509SignatureLists([der]);
  assert.ok(l.subarray(0, 16).equals(guidBytes(GUIDS.certX509)));
  assert.equal(l.readUInt32LE(16), l.length);
  assert.equal(l.readUInt32LE(20), 0);
  assert.equal(l.readUInt32LE(24), 16 + der.length);
  assert.ok(l.subarray(44).equals(der));
});

test('enrolling the CA writes TlsCaCertificate (NV|BS) after the store header and changes nothing else', () => {
  const blank = blankStore();
  const der = Buffer.alloc(700, 7);
  const fd = enrollTlsCaCertificates(blank, [der]);
  const store = locateStore(fd);
  assert.equal(store.start, 0x64);
  const v = readVariable(fd, 'TlsCaCertificate', GUIDS.tlsCaCertificate);
  assert.ok(v);
  assert.equal(v.offset, 0x64);
  assert.equal(v.attributes, 0x3);
  assert.ok(v.data.equals(x509SignatureLists([der])));
  assert.ok(fd.subarray(0, 0x64).equals(blank.subarray(0, 0x64)), 'firmware volume and store headers untouched');
  assert.ok(fd.subarray(v.next).equals(blank.subarray(v.next)), 'free space and the area after the store untouched');
});

test('setting a variable again deletes the old copy and appends the new one 4-byte aligned', () => {
  let fd = setVariable(blankStore(), 'Odd', GUIDS.tlsCaCertificate, 3, Buffer.from('abc'));
  fd = setVariable(fd, 'Odd', GUIDS.tlsCaCertificate, 3, Buffer.from('defgh'));
  const all = listVariables(fd);
  assert.equal(all.length, 2);
  assert.equal(all[0]!.state, 0x3d, 'old copy marked deleted');
  assert.equal(all[1]!.offset % 4, 0);
  assert.equal(readVariable(fd, 'Odd', GUIDS.tlsCaCertificate)?.data.toString(), 'defgh');
});

test('a file that is not a variable store, or a full store, is refused with a sentence', () => {
  assert.throws(() => locateStore(Buffer.alloc(4096)), (e: FarmError) => e instanceof FarmError && /not an OVMF variable store/.test(e.message));
  assert.throws(() => setVariable(blankStore(), 'Big', GUIDS.tlsCaCertificate, 3, Buffer.alloc(0x1000)), /no room/);
});

test('Debian\'s own OVMF variable store is understood and takes the farm CA', (t) => {
  if (!OVMF_VARS) return t.skip('SKIPPED: ovmf is not installed (apt-get install ovmf)');
  const pristine = fs.readFileSync(OVMF_VARS);
  const fd = enrollTlsCaCertificates(pristine, [Buffer.alloc(900, 1)]);
  assert.equal(fd.length, pristine.length);
  assert.equal(readVariable(fd, 'TlsCaCertificate', GUIDS.tlsCaCertificate)?.data.length, 28 + 16 + 900);
  assert.equal(listVariables(pristine).length, listVariables(fd).length - 1);
});

test('stock autoexec: identity lines right after #!ipxe, in iPXE\'s colon-separated hex', () => {
  assert.equal(ipxeHex(Buffer.from([0, 15, 255])), '00:0f:ff');
  const s = stockAutoexec('#!ipxe\necho hi\n', Buffer.from([1, 2]), Buffer.from([3]));
  const lines = s.split('\n');
  assert.equal(lines[0], '#!ipxe');
  assert.ok(lines.includes('set cert 01:02'));
  assert.ok(lines.includes('set privkey 03'));
  assert.ok(lines.indexOf('set privkey 03') < lines.indexOf('echo hi'));
  assert.deepEqual(pemToDer('-----BEGIN X-----\nAQID\n-----END X-----\n'), Buffer.from([1, 2, 3]));
});

test('AAVMF: a blank (all-zero) store is formatted as AAVMF formats it on first boot, then takes the farm CA', () => {
  const zero = Buffer.alloc(4 << 20);
  assert.throws(() => locateStore(zero), /no firmware volume signature/);
  const fd = formatBlankStore(zero);
  assert.equal(fd.length, zero.length);
  const store = locateStore(fd);
  assert.deepEqual(store, { start: 0x48 + 28, end: AAVMF_STORE.storeSize, authenticated: true });
  // The firmware volume header's 16-bit words sum to zero (EFI's header checksum).
  let sum = 0;
  for (let i = 0; i < 0x48; i += 2) sum = (sum + fd.readUInt16LE(i)) & 0xffff;
  assert.equal(sum, 0);
  // The fault-tolerant-write working block header, whose CRC the firmware checks (value from a first boot of AAVMF).
  assert.equal(fd.subarray(AAVMF_STORE.storeSize, AAVMF_STORE.storeSize + 0x20).toString('hex'),
    '2b29589e687c7d49a0ce6500fd9f1b95' + '5be7c686' + 'feffffff' + 'e0ff030000000000');
  assert.ok(fd.subarray(AAVMF_STORE.fvLength).every((b) => b === 0), 'beyond the volume stays as it was');
  const ca = Buffer.from('3082 farm ca der');
  const v = readVariable(enrollTlsCaCertificates(zero, [ca]), 'TlsCaCertificate', GUIDS.tlsCaCertificate);
  assert.ok(v?.data.subarray(v.data.length - ca.length).equals(ca));
  // A store that is not blank is left alone (an OVMF file, or one AAVMF already formatted).
  const used = Buffer.from(zero); used[5] = 1;
  assert.equal(formatBlankStore(used), used);
});

const AAVMF_VARS = '/usr/share/AAVMF/AAVMF_VARS.fd';
test('Debian\'s own AAVMF_VARS.fd takes the farm CA', (t) => {
  if (!fs.existsSync(AAVMF_VARS)) return t.skip('SKIPPED LOUDLY: qemu-efi-aarch64 is not installed (no /usr/share/AAVMF/AAVMF_VARS.fd)');
  const fd = enrollTlsCaCertificates(fs.readFileSync(AAVMF_VARS), [Buffer.from('ca')]);
  assert.ok(readVariable(fd, 'TlsCaCertificate', GUIDS.tlsCaCertificate));
  assert.equal(fd.length, fs.statSync(AAVMF_VARS).size, 'a pflash image keeps its size');
});
