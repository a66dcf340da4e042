import { test } from 'node:test';
import assert from 'node:assert/strict';
import { starterFarm } from '../../../src/core/farm/model';
import { validateFarm } from '../../../src/core/farm/validate';
import { clientArch } from '../../../src/core/farm/arch';
import { profileKernel } from '../../../src/core/farm/profileKernel';
import { checkFarmText } from '../../../src/core/farm/load';

type S = Record<string, any>;
function farm(): S {
  const f = starterFarm('lab') as unknown as S;
  f.profiles = { linux: { kernel: 'vmlinuz', initrds: ['initrd.gz'], cmdline: 'console=ttyS0 x=1' } };
  f.clients = { pc: { profile: 'linux', macs: [] } };
  return f;
}

test('a client without arch is the x86_64 machine of /qemu/firmware, as before architectures existed', () => {
  const f = farm();
  assert.equal(clientArch(validateFarm(f).farm, 'pc'), 'x86_64-bios');
  f.qemu.firmware = 'efi';
  assert.equal(clientArch(validateFarm(f).farm, 'pc'), 'x86_64-efi');
  f.clients.pc.arch = 'x86_64-bios';
  assert.equal(clientArch(validateFarm(f).farm, 'pc'), 'x86_64-bios');
});

test('an arm64 client whose profile has only an x86_64 kernel is refused at load, pointing at its arch', () => {
  const f = farm();
  f.clients.board = { arch: 'arm64-efi', profile: 'linux', macs: [] };
  const { issues } = validateFarm(f);
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.pointer, '/clients/board/arch');
  assert.match(issues[0]!.message, /Client "board" is arm64-efi, but profile "linux" has no arm64 kernel: add \/profiles\/linux\/arches\/arm64/);
  // The text position lands on the "arch" member, so the editor underlines it.
  const text = JSON.stringify(f, null, 2);
  const at = checkFarmText(text).issues[0]!.at;
  assert.match(text.split('\n')[at.line]!, /"arch": "arm64-efi"/);
});

test('the default profile is checked for clients without one, and an x86 client of an arm64-only profile is refused', () => {
  const f = farm();
  f.profiles.arm = { arches: { arm64: { kernel: 'arm64/vmlinuz' } } };
  f.defaultProfile = 'arm';
  f.clients.pc = { macs: [] };
  const { issues } = validateFarm(f);
  assert.deepEqual(issues.map((i) => i.pointer), ['/clients/pc']);
  assert.match(issues[0]!.message, /has no x86_64 kernel: give \/profiles\/arm a "kernel"/);
});

test('profileKernel: top level is x86_64; an arch entry has its own kernel and initrds, its command line or the profile\'s', () => {
  const f = farm();
  f.profiles.linux.arches = { arm64: { kernel: 'a/vmlinuz', initrds: ['a/initrd.gz'] } };
  const p = validateFarm(f).farm.profiles.linux!;
  assert.deepEqual(profileKernel(p, 'x86_64'), { kernel: 'vmlinuz', initrds: ['initrd.gz'], cmdline: 'console=ttyS0 x=1' });
  assert.deepEqual(profileKernel(p, 'arm64'), { kernel: 'a/vmlinuz', initrds: ['a/initrd.gz'], cmdline: 'console=ttyS0 x=1' });
  f.profiles.linux.arches.arm64.cmdline = 'console=ttyAMA0 x=1';
  assert.equal(profileKernel(validateFarm(f).farm.profiles.linux!, 'arm64')!.cmdline, 'console=ttyAMA0 x=1');
});

test('x86_64 under arches is refused with where it belongs', () => {
  const f = farm();
  f.profiles.linux.arches = { x86_64: { kernel: 'k' } };
  const { issues } = validateFarm(f);
  assert.equal(issues[0]!.pointer, '/profiles/linux/arches/x86_64');
  assert.match(issues[0]!.message, /is the profile's own "kernel"/);
});
