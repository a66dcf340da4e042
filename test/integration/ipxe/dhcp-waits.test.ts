import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { farmWithPki } from '../../support/pki';
import { which } from '../../support/farm';
import { loadFarm } from '../../../src/core/farm/load';
import { setSetting } from '../../../src/core/farm/settings';
import { buildClientImage, imageState } from '../../../src/core/ipxe/build';
import { locateIpxeSource, type IpxeSource } from '../../../src/core/ipxe/source';
import { openFarm } from '../../../src/core/farm/handle';

// The DHCP waits of the images the farm builds, as iPXE's own preprocessor sees them in the real tree (timing a boot's
// DHCP stage belongs to the stages benchmark, not here): the tuned values by default, iPXE's standard ones when the
// farm file says the network has a ProxyDHCP server. Each change rebuilds dhcp.o, and the image built before is stale.

let source: IpxeSource | undefined;
let skipReason = '';
let root = '';

before(async () => {
  for (const tool of ['make', 'gcc', 'openssl', 'xorriso', 'flock']) {
    if (!which(tool)) { skipReason = `SKIPPED LOUDLY: ${tool} is not installed, so no iPXE image can be built here`; return; }
  }
  try {
    root = await farmWithPki('dhcpwaits');
    source = await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false });
  } catch (err) {
    skipReason = `SKIPPED LOUDLY: no iPXE source tree (set IPXE_SRC, or put v2.0.0 in ~/.cache/ipxe-farm/src/ipxe-v2.0.0): ${(err as Error).message}`;
  }
});

/** The DHCP timeouts iPXE compiles with: config/dhcp.h (which includes config/local/dhcp.h) through the C preprocessor. */
function effectiveDhcp(src: string): Record<string, number> {
  const out = execFileSync('gcc', ['-E', '-dM', '-x', 'c', '-I', src, '-D', 'PLATFORM=pcbios', path.join(src, 'config', 'dhcp.h')], { encoding: 'utf8' });
  const values: Record<string, number> = {};
  for (const m of out.matchAll(/^#define (DHCP_DISC_\w+_SEC) (\d+)$/gm)) values[m[1]!] = Number(m[2]);
  return values;
}

async function build(t: { diagnostic(s: string): void }): Promise<string[]> {
  const compiled: string[] = [];
  const r = await buildClientImage(await openFarm(root), 'dut1', { target: 'iso', source, onProgress: (p) => { const m = p.line && /\[BUILD\] (\S+)/.exec(p.line); if (m) compiled.push(m[1]!); } });
  t.diagnostic(`dut1 built in ${(r.durationMs / 1000).toFixed(1)} s, ${compiled.length} objects compiled`);
  return compiled;
}

test('by default no ProxyDHCP wait; a farm with a ProxyDHCP server gets iPXE\'s standard 2 s wait back, and images built before are stale', { timeout: 30 * 60_000 }, async (t) => {
  if (!source) return t.skip(skipReason);
  const src = source.srcDir;
  await build(t);
  assert.deepEqual(effectiveDhcp(src), { DHCP_DISC_START_TIMEOUT_SEC: 0, DHCP_DISC_END_TIMEOUT_SEC: 10, DHCP_DISC_PROXY_TIMEOUT_SEC: 0 });
  assert.equal((await imageState(await openFarm(root), 'dut1', 'iso')).state, 'built');

  await setSetting(root, 'ipxe.proxyDhcp', true);
  const stale = await imageState(await openFarm(root), 'dut1', 'iso');
  assert.equal(stale.state, 'stale');
  assert.match(stale.reasons.join(' '), /iPXE build options changed \(ipxe\.proxyDhcp/);
  const compiled = await build(t);
  assert.ok(compiled.some((o) => /\/dhcp\.o$/.test(o)), `dhcp.o was recompiled (compiled: ${compiled.join(' ')})`);
  assert.equal(effectiveDhcp(src).DHCP_DISC_PROXY_TIMEOUT_SEC, 2, 'iPXE\'s own ProxyDHCP wait');
  assert.equal(effectiveDhcp(src).DHCP_DISC_START_TIMEOUT_SEC, 0, 'the other setting is independent');
  assert.equal((await imageState(await openFarm(root), 'dut1', 'iso')).state, 'built');

  // Both settings at iPXE's standard: the header overrides nothing, so the tree builds exactly as stock iPXE.
  await setSetting(root, 'ipxe.fastDhcpRetry', false);
  await build(t);
  assert.deepEqual(effectiveDhcp(src), { DHCP_DISC_START_TIMEOUT_SEC: 1, DHCP_DISC_END_TIMEOUT_SEC: 10, DHCP_DISC_PROXY_TIMEOUT_SEC: 2 });
  assert.doesNotMatch(await fsp.readFile(path.join(src, 'config', 'local', 'dhcp.h'), 'utf8'), /#define/);

  // Back to the farm defaults (this also leaves a shared tree as the other tests expect it).
  await setSetting(root, 'ipxe.proxyDhcp', false);
  await setSetting(root, 'ipxe.fastDhcpRetry', true);
  assert.equal((await imageState(await openFarm(root), 'dut1', 'iso')).state, 'stale');
  await build(t);
  assert.equal(effectiveDhcp(src).DHCP_DISC_PROXY_TIMEOUT_SEC, 0);
});
