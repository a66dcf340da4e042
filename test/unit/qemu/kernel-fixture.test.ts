import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { probeBootSector } from '../../../src/core/qemu/accel';
import { buildInitramfs, cpioNewc, INIT_SCRIPT, LINUX_MARKER_RE } from '../../support/kernel';

test('cpio newc: headers, names and data 4-byte aligned, device numbers kept, trailer last', () => {
  const buf = cpioNewc([{ name: 'dev/console', mode: 0o020600, rdev: [5, 1] }, { name: 'init', mode: 0o100755, data: Buffer.from('abc') }]);
  assert.equal(buf.toString('ascii', 0, 6), '070701');
  const h = buf.toString('ascii', 0, 110);
  assert.equal(parseInt(h.slice(14, 22), 16), 0o020600);
  assert.equal(parseInt(h.slice(78, 86), 16), 5); // rdevmajor
  assert.equal(parseInt(h.slice(86, 94), 16), 1); // rdevminor
  assert.equal(buf.toString('ascii', 110, 121), 'dev/console');
  const second = buf.indexOf('070701', 1);
  assert.equal(second % 4, 0);
  assert.equal(parseInt(buf.toString('ascii', second + 54, second + 62), 16), 3); // filesize
  assert.ok(buf.includes('TRAILER!!!'));
  assert.equal(buf.length % 4, 0);
});

test('the initramfs carries busybox and an /init that prints the marker with /proc/cmdline, then powers off', () => {
  const cpio = gunzipSync(buildInitramfs(Buffer.from('BUSYBOX')));
  assert.ok(cpio.includes('bin/busybox\0'));
  assert.ok(cpio.includes(INIT_SCRIPT));
  assert.match(INIT_SCRIPT, /poweroff -f/);
  assert.equal(LINUX_MARKER_RE.exec('IPXE-FARM-LINUX-UP cmdline: console=ttyS0 secret=abc\r\n')?.[1], 'console=ttyS0 secret=abc');
});

test('the KVM probe boot sector is a valid MBR that prints its marker to COM1 and exits', () => {
  const s = probeBootSector();
  assert.equal(s.length, 512);
  assert.equal(s.readUInt16LE(510), 0xaa55);
  assert.ok(s.includes('IPXE-FARM-KVM-OK'));
  // mov si, imm16 points at the message: 0x7c00 + its offset.
  assert.equal(s.readUInt16LE(9), 0x7c00 + s.indexOf('IPXE-FARM-KVM-OK'));
});
