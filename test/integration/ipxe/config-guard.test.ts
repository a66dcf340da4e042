import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { farmWithPki } from '../../support/pki';
import { which } from '../../support/farm';
import { buildClientImage } from '../../../src/core/ipxe/build';
import { describeTree } from '../../../src/core/ipxe/source';
import { FarmError } from '../../../src/core/errors';
import { openFarm } from '../../../src/core/farm/handle';

// A stand-in tree whose "make" never runs: the refusal must come before it.
async function fakeTree(): Promise<string> {
  const dir = path.join(await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-guard-')), 'ipxe');
  await fsp.mkdir(path.join(dir, 'src', 'include', 'ipxe'), { recursive: true });
  await fsp.mkdir(path.join(dir, 'src', 'config', 'local'), { recursive: true });
  await fsp.writeFile(path.join(dir, 'src', 'Makefile'), 'VERSION_MAJOR := 2\nVERSION_MINOR := 0\nVERSION_PATCH := 0\nall:\n\tfalse\n');
  return dir;
}

test('the user\'s config/local headers are left alone; a foreign header in the farm\'s named config is never overwritten', async (t) => {
  if (!which('flock')) return t.skip('SKIPPED LOUDLY: flock (util-linux) is not installed');
  const root = await farmWithPki('guard');
  const tree = await fakeTree();
  const mine = '#define CONSOLE_SERIAL\n/* my lab settings */\n';
  const userHeader = path.join(tree, 'src', 'config', 'local', 'general.h');
  await fsp.writeFile(userHeader, mine);
  const header = path.join(tree, 'src', 'config', 'local', 'ipxefarm', 'general.h');
  await fsp.mkdir(path.dirname(header), { recursive: true });
  await fsp.writeFile(header, mine);
  const source = await describeTree(tree, 'farm', 'v2.0.0');
  await assert.rejects(buildClientImage(await openFarm(root), 'dut1', { source }), (e: unknown) => e instanceof FarmError && e.code === 'ECONFIGHEADER' && e.message.includes(header));
  assert.equal(await fsp.readFile(header, 'utf8'), mine);
  assert.equal(await fsp.readFile(userHeader, 'utf8'), mine);
  // No image and no manifest for a refused build.
  await assert.rejects(fsp.access(path.join(root, 'ipxe', 'dut1', 'out', 'manifest.json')));
});

test('an empty header (as make leaves it) is taken over, and a failing make is reported with its output', async (t) => {
  if (!which('flock') || !which('make')) return t.skip('SKIPPED LOUDLY: flock or make is not installed');
  const root = await farmWithPki('guard2');
  const tree = await fakeTree();
  await fsp.writeFile(path.join(tree, 'src', 'config', 'local', 'general.h'), '/* the user\'s */\n');
  await fsp.mkdir(path.join(tree, 'src', 'config', 'local', 'ipxefarm'));
  await fsp.writeFile(path.join(tree, 'src', 'config', 'local', 'ipxefarm', 'general.h'), '');
  const source = await describeTree(tree, 'farm', 'v2.0.0');
  await assert.rejects(buildClientImage(await openFarm(root), 'dut1', { source }), (e: unknown) => e instanceof FarmError && e.code === 'EBUILD' && /Building the iPXE image failed/.test(e.message));
  assert.match(await fsp.readFile(path.join(tree, 'src', 'config', 'local', 'ipxefarm', 'general.h'), 'utf8'), /#define DOWNLOAD_PROTO_HTTPS/);
  assert.match(await fsp.readFile(path.join(tree, 'src', 'config', 'local', 'ipxefarm', 'crypto.h'), 'utf8'), /#undef OCSP_CHECK/);
  assert.equal(await fsp.readFile(path.join(tree, 'src', 'config', 'local', 'general.h'), 'utf8'), '/* the user\'s */\n');
});

test('a config/local/dhcp.h with the user\'s own settings refuses the build and is left as it was', async (t) => {
  if (!which('flock')) return t.skip('SKIPPED LOUDLY: flock (util-linux) is not installed');
  const root = await farmWithPki('guard3');
  const tree = await fakeTree();
  const mine = '#undef DHCP_DISC_PROXY_TIMEOUT_SEC\n#define DHCP_DISC_PROXY_TIMEOUT_SEC 11\n';
  const dhcp = path.join(tree, 'src', 'config', 'local', 'dhcp.h');
  await fsp.writeFile(dhcp, mine);
  const source = await describeTree(tree, 'farm', 'v2.0.0');
  await assert.rejects(buildClientImage(await openFarm(root), 'dut1', { source }), (e: unknown) => e instanceof FarmError && e.code === 'ECONFIGHEADER' && e.message.includes(dhcp));
  assert.equal(await fsp.readFile(dhcp, 'utf8'), mine);
  // Checked before anything is written: the farm's own headers were not put in either.
  await assert.rejects(fsp.access(path.join(tree, 'src', 'config', 'local', 'ipxefarm', 'general.h')));
});
