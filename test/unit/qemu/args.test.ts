import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netdevArg, qemuArgs, qemuProgram, shellLine } from '../../../src/core/qemu/args';
import { FarmError } from '../../../src/core/errors';

test('BIOS ISO boot: the DESIGN.md §5 command line, with QEMU\'s own iPXE ROM kept out', () => {
  const args = qemuArgs({ firmware: 'bios', accel: 'tcg', memoryMiB: 512, medium: { kind: 'cdrom', path: '/x/ipxe.iso' }, network: { kind: 'user' } });
  assert.deepEqual(args, ['-accel', 'tcg', '-m', '512', '-nographic', '-no-reboot', '-cdrom', '/x/ipxe.iso', '-boot', 'd',
    '-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0,romfile=']);
});

test('restricted networking: restrict=on and one socat guestfwd per port, relayed to 127.0.0.1', () => {
  const v = netdevArg({ kind: 'restricted', address: '10.0.2.100', forwards: [{ guestPort: 443, hostPort: 40001 }, { guestPort: 80, hostPort: 40002 }] });
  assert.equal(v, 'user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:443-cmd:socat STDIO TCP:127.0.0.1:40001,guestfwd=tcp:10.0.2.100:80-cmd:socat STDIO TCP:127.0.0.1:40002');
});

test('restricted networking refuses an address outside QEMU\'s user subnet, the guest\'s own, or no ports', () => {
  for (const address of ['127.0.0.1', '192.168.1.5', '10.0.2.15', '10.0.2.1', '10.0.3.100']) {
    assert.throws(() => netdevArg({ kind: 'restricted', address, forwards: [{ guestPort: 1, hostPort: 1 }] }), (e: FarmError) => e instanceof FarmError && /outside QEMU's user network/.test(e.message), address);
  }
  assert.throws(() => netdevArg({ kind: 'restricted', address: '10.0.2.100', forwards: [] }), /at least one port/);
  assert.throws(() => netdevArg({ kind: 'restricted', address: '10.0.2.100', forwards: [{ guestPort: 70000, hostPort: 1 }] }), /not a TCP port/);
});

test('EFI: OVMF code read-only, this run\'s variable store writable; a FAT disk; a fixed MAC', () => {
  const args = qemuArgs({ firmware: 'efi', accel: 'kvm', memoryMiB: 512, medium: { kind: 'disk', path: '/x/stick.img' }, network: { kind: 'none' },
    ovmf: { code: '/fw/CODE.fd', vars: '/run/vars.fd' }, mac: '52:54:00:aa:bb:cc' });
  const s = args.join(' ');
  assert.match(s, /-accel kvm/);
  assert.match(s, /if=pflash,format=raw,unit=0,readonly=on,file=\/fw\/CODE\.fd/);
  assert.match(s, /if=pflash,format=raw,unit=1,file=\/run\/vars\.fd/);
  assert.match(s, /-drive if=none,id=boot0,format=raw,file=\/x\/stick\.img -device ide-hd,drive=boot0,bootindex=0/);
  assert.match(s, /-nic none/);
  assert.throws(() => qemuArgs({ firmware: 'efi', accel: 'tcg', memoryMiB: 512, medium: { kind: 'disk', path: 'x' }, network: { kind: 'none' } }), /OVMF/);
});

test('direct kernel boot passes kernel, initrd and command line; too little memory is refused', () => {
  const args = qemuArgs({ firmware: 'bios', accel: 'tcg', memoryMiB: 256, medium: { kind: 'kernel', kernel: 'k', initrd: 'i', append: 'console=ttyS0' }, network: { kind: 'none' } });
  assert.deepEqual(args.slice(6, 12), ['-kernel', 'k', '-initrd', 'i', '-append', 'console=ttyS0']);
  assert.throws(() => qemuArgs({ firmware: 'bios', accel: 'tcg', memoryMiB: 16, medium: { kind: 'cdrom', path: 'x' }, network: { kind: 'none' } }), /too small/);
});

test('shellLine quotes only what a shell would split', () => {
  assert.equal(shellLine('qemu', ['-m', '512', '-netdev', 'user,cmd:socat STDIO TCP:1', "it's"]), `qemu -m 512 -netdev 'user,cmd:socat STDIO TCP:1' 'it'\\''s'`);
});

test('a forward may name its own guest address (a second name for the same farm), checked like the first', () => {
  const v = netdevArg({ kind: 'restricted', address: '10.0.2.100', forwards: [{ guestPort: 443, hostPort: 4 }, { address: '10.0.2.101', guestPort: 443, hostPort: 4 }] });
  assert.match(v!, /guestfwd=tcp:10\.0\.2\.101:443-cmd:socat STDIO TCP:127\.0\.0\.1:4$/);
  assert.throws(() => netdevArg({ kind: 'restricted', address: '10.0.2.100', forwards: [{ address: '8.8.8.8', guestPort: 1, hostPort: 1 }] }), /outside/);
});

test('a comma in a path is doubled so QEMU does not read it as the next option', () => {
  const args = qemuArgs({ firmware: 'bios', accel: 'tcg', memoryMiB: 512, medium: { kind: 'disk', path: '/a,b/usb.img' }, network: { kind: 'none' } });
  assert.ok(args.includes('if=none,id=boot0,format=raw,file=/a,,b/usb.img'));
});

test('arm64: qemu-system-aarch64 -M virt -cpu max, AAVMF as pflash, the stick on virtio (virt has no IDE); no BIOS, no ISO', () => {
  const spec = { cpu: 'arm64' as const, firmware: 'efi' as const, accel: 'tcg' as const, memoryMiB: 512, medium: { kind: 'disk' as const, path: '/x/stick.img' },
    network: { kind: 'restricted' as const, address: '10.0.2.100', forwards: [{ guestPort: 8443, hostPort: 40001 }] }, ovmf: { code: '/fw/AAVMF_CODE.fd', vars: '/run/vars.fd' } };
  const args = qemuArgs(spec);
  assert.equal(qemuProgram('arm64'), 'qemu-system-aarch64');
  assert.equal(qemuProgram(), 'qemu-system-x86_64');
  assert.deepEqual(args.slice(0, 6), ['-M', 'virt', '-cpu', 'max', '-accel', 'tcg']);
  const s = args.join(' ');
  assert.match(s, /if=pflash,format=raw,unit=0,readonly=on,file=\/fw\/AAVMF_CODE\.fd/);
  assert.match(s, /-device virtio-blk-pci,drive=boot0,bootindex=0/);
  assert.match(s, /restrict=on,guestfwd=tcp:10\.0\.2\.100:8443-cmd:socat STDIO TCP:127\.0\.0\.1:40001/);
  assert.throws(() => qemuArgs({ ...spec, firmware: 'bios' }), /UEFI only/);
  assert.throws(() => qemuArgs({ ...spec, medium: { kind: 'cdrom', path: 'x.iso' } }), /not an ISO/);
  assert.throws(() => qemuArgs({ ...spec, ovmf: undefined }), /AAVMF/);
  // x86_64 is as before: no machine options, IDE disk.
  assert.match(qemuArgs({ ...spec, cpu: 'x86_64' }).join(' '), /^-accel tcg .*ide-hd,drive=boot0/);
});
