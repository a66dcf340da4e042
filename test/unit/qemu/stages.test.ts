import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BootStageTracker, findErrorCodes, formatStages, plainText } from '../../../src/core/qemu/stages';

// A BIOS boot as iPXE 2.0.0 prints it on QEMU's serial console (escape sequences included).
const CONSOLE = [
  '\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n', 'Booting from ROM...\r\n',
  'iPXE initialising devices...\r\n', '\x1b[0;1miPXE 2.0.0\x1b[0m -- Open Source Network Boot Firmware\r\n',
  'Configuring (net0 52:54:00:12:34:56)...', '... ok\r\n',
  'https://10.0.2.100:8443/boot.ipxe..', '. ok\r\n',
  'http://10.0.2.100:8080/vmlinuz... ok\r\n', 'http://10.0.2.100:8080/initrd... ok\r\n',
  '\x1bc\x1b[?7l\x1b[2JIPXE-FARM-LINUX-UP cmdline: console=ttyS0 s=1\r\n',
];

test('stages are timed when their line completes, even when it arrives in pieces', () => {
  const t = new BootStageTracker(/IPXE-FARM-LINUX-UP/);
  CONSOLE.forEach((c, i) => t.feed(c, i * 100));
  assert.deepEqual(t.stages, { ipxeUp: 200, dhcpOk: 500, scriptFetched: 700, imagesLoaded: 900, linuxMarker: 1000 });
  assert.deepEqual(t.downloads.map((d) => d.url), ['https://10.0.2.100:8443/boot.ipxe', 'http://10.0.2.100:8080/vmlinuz', 'http://10.0.2.100:8080/initrd']);
  assert.equal(formatStages(t.stages), 'iPXE up 0.2 s · DHCP ok 0.5 s · script fetched 0.7 s · kernel + initrd loaded 0.9 s · Linux marker 1.0 s');
  assert.doesNotMatch(t.plain, /\x1b/);
});

test('a stage never seen stays undefined (a refused boot has no script stage)', () => {
  const t = new BootStageTracker(/IPXE-FARM-LINUX-UP/);
  t.feed('iPXE initialising devices...\r\nConfiguring (net0 52:54:00:12:34:56)...... ok\r\n', 10);
  t.feed('https://10.0.2.100:8443/boot.ipxe... Permission denied (https://ipxe.org/0216eb3c)\r\n', 20);
  assert.equal(t.stages.scriptFetched, undefined);
  assert.equal(t.stages.linuxMarker, undefined);
  assert.deepEqual(t.errors, [{ code: '0216eb3c', line: 'https://10.0.2.100:8443/boot.ipxe... Permission denied (https://ipxe.org/0216eb3c)', at: 20 }]);
});

test('the farm\'s answer to "why" (/why.ipxe) after a refusal is not the boot script', () => {
  const t = new BootStageTracker(/IPXE-FARM-LINUX-UP/);
  t.feed('Configuring (net0 52:54:00:12:34:56)...... ok\r\n', 10);
  t.feed('https://10.0.2.100:8443/boot.ipxe... HTTP 4xx Client Error (https://ipxe.org/1d0c6439)\r\n', 20);
  t.feed('https://10.0.2.100:8443/why.ipxe... ok\r\n', 30);
  assert.equal(t.stages.scriptFetched, undefined);
  assert.equal(t.stages.imagesLoaded, undefined);
  assert.deepEqual(t.errors.map((e) => e.code), ['1d0c6439']);
});

test('error codes: both iPXE forms are found, each once, with the line that says what failed', () => {
  const t = new BootStageTracker();
  t.feed('Could not verify: Permission denied (022', 1);
  assert.equal(t.errors.length, 0);
  t.feed('7e13c)\r\nhttps://x/ ... Input/output error (http://ipxe.org/1d0c6439)\n', 2);
  t.feed('more text\n', 3);
  assert.deepEqual(t.errors.map((e) => [e.code, e.line, e.at]), [
    ['0227e13c', 'Could not verify: Permission denied (0227e13c)', 2],
    ['1d0c6439', 'https://x/ ... Input/output error (http://ipxe.org/1d0c6439)', 2],
  ]);
  assert.deepEqual(findErrorCodes('no (codes) here (1234567) (123456789)'), []);
});

test('plainText drops colour codes and carriage returns', () => {
  assert.equal(plainText('\x1b[0;1miPXE\x1b[0m ok\r\n'), 'iPXE ok\n');
  assert.equal(plainText('\x1b[2J\x1b[=3hBdsDxe: loading'), 'BdsDxe: loading', 'OVMF\'s private mode sequences too');
});

test('download progress drawn with backspaces still reads as a finished download', () => {
  const t = new BootStageTracker();
  t.feed('Configuring (net0 52:54:00:12:34:56)...... ok\r\nhttp://10.0.2.100:1/boot.ipxe... ok\r\n', 1);
  t.feed('http://10.0.2.100:1/vmlinuz... 12%', 2);
  t.feed('\b\b\b 57%\b\b\b\b', 3);
  t.feed(' ok\r\n', 4);
  assert.deepEqual(t.downloads.map((d) => [d.url, d.at]), [['http://10.0.2.100:1/boot.ipxe', 1], ['http://10.0.2.100:1/vmlinuz', 4]]);
  assert.equal(t.stages.imagesLoaded, 4);
  assert.match(t.plain, /vmlinuz\.\.\.\s+ok\n/);
});

test('lines the BIOS console wrapped at 80 columns are read whole, so a split error code is still found', () => {
  const t = new BootStageTracker();
  const first = 'https://10.0.2.100:45313/boot.ipxe... HTTP 4xx Client Error (https://ipxe.org/1d';
  assert.equal(first.length, 80);
  t.feed(`${first}\r\n0c6439)\r\n`, 5);
  t.feed(`${'x'.repeat(79)}\r\nshort line\r\n`, 6);
  assert.deepEqual(t.errors.map((e) => e.code), ['1d0c6439']);
  assert.match(t.plain, /Client Error \(https:\/\/ipxe\.org\/1d0c6439\)\n/);
  assert.match(t.plain, /x{79}\nshort line\n/, 'a shorter line keeps its own newline');
});

test('EFI iPXE\'s look for an optional autoexec.ipxe is not reported as an error', () => {
  const t = new BootStageTracker();
  t.feed('file:autoexec.ipxe... Not found (https://ipxe.org/7f4de18e)\r\nfile:/autoexec.ipxe... Not found (https://ipxe.org/7f4de18e)\r\n', 1);
  t.feed('https://10.0.2.100:1/boot.ipxe... Not found (https://ipxe.org/2d0c613b)\r\n', 2);
  assert.deepEqual(t.errors.map((e) => e.code), ['2d0c613b']);
});
