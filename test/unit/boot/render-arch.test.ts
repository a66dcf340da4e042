import { test } from 'node:test';
import assert from 'node:assert/strict';
import { starterFarm } from '../../../src/core/farm/model';
import { validateFarm } from '../../../src/core/farm/validate';
import { farmLayout } from '../../../src/core/farm/layout';
import { renderScript } from '../../../src/core/boot/render';
import { checkBootMappings } from '../../../src/core/boot/check';

// One profile, two architectures: each client is served the kernel, initrds and command line of its own CPU.
function farm() {
  const f = starterFarm('lab') as unknown as Record<string, any>;
  f.profiles = {
    linux: {
      kernel: 'vmlinuz', initrds: ['initrd.gz'], cmdline: 'console=ttyS0 host={{client.name}}',
      arches: { arm64: { kernel: 'arm64/vmlinuz', initrds: ['arm64/initrd.gz'], cmdline: 'console=ttyAMA0 host={{client.name}}' } },
    },
    armonly: { arches: { arm64: { kernel: 'arm64/vmlinuz', initrds: [] } } },
  };
  f.clients = { pc: { profile: 'linux', macs: [] }, board: { arch: 'arm64-efi', profile: 'linux', macs: [] } };
  const { farm: v, issues } = validateFarm(f);
  assert.deepEqual(issues, []);
  return v;
}
const layout = farmLayout('/nonexistent/farm');
const render = (f: ReturnType<typeof farm>, name: string, profileName = 'linux') =>
  renderScript({ farm: f, layout, secrets: {}, clientName: name, client: f.clients[name], profileName }).script;

test('an arm64 client gets the arm64 kernel, initrd and console; an x86 client the top-level ones', () => {
  const f = farm();
  const arm = render(f, 'board');
  assert.match(arm, /^kernel --name kernel http:\/\/10\.0\.2\.2:8080\/arm64\/vmlinuz console=ttyAMA0 host=board$/m);
  assert.match(arm, /^initrd --name initrd0 http:\/\/10\.0\.2\.2:8080\/arm64\/initrd\.gz$/m);
  assert.doesNotMatch(arm, /ttyS0|\/vmlinuz console=ttyS0/);
  const pc = render(f, 'pc');
  assert.match(pc, /^kernel --name kernel http:\/\/10\.0\.2\.2:8080\/vmlinuz console=ttyS0 host=pc$/m);
  assert.doesNotMatch(pc, /arm64/);
});

test('a certificate without a /clients entry gets the x86_64 kernel, or the only one an arm64-only profile has', () => {
  const f = farm();
  assert.match(renderScript({ farm: f, layout, secrets: {}, clientName: 'x', profileName: 'linux' }).script, /8080\/vmlinuz /);
  assert.match(renderScript({ farm: f, layout, secrets: {}, clientName: 'x', profileName: 'armonly' }).script, /8080\/arm64\/vmlinuz/);
});

test('boot checks find a missing arm64 kernel file at its own pointer', () => {
  const f = farm();
  const exists = (p: string) => !p.includes('arm64/initrd.gz');
  const issues = checkBootMappings(f, layout, {}, exists);
  assert.deepEqual(issues.map((i) => i.pointer), ['/profiles/linux/arches/arm64/initrds/0']);
});
