import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cachedTreeDir, cloneIpxe, ipxeCacheRoot, locateIpxeSource } from '../../../src/core/ipxe/source';
import { starterFarm } from '../../../src/core/farm/model';
import { FarmError } from '../../../src/core/errors';
import { which } from '../../support/farm';

async function fakeTree(dir: string, major: number, minor: number, patch = 0): Promise<string> {
  await fsp.mkdir(path.join(dir, 'src', 'include', 'ipxe'), { recursive: true });
  await fsp.writeFile(path.join(dir, 'src', 'include', 'ipxe', 'errfile.h'), '/* fake */\n');
  await fsp.writeFile(path.join(dir, 'src', 'Makefile'), `# iPXE\nVERSION_MAJOR\t:= ${major}\nVERSION_MINOR\t:= ${minor}\nVERSION_PATCH\t:= ${patch}\n`);
  return dir;
}

const tmp = () => fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-src-test-'));

test('order: ipxe.source, then IPXE_SRC, then the per-user cache of ipxe.ref', async () => {
  const base = await tmp();
  const farmTree = await fakeTree(path.join(base, 'farm-tree'), 2, 0);
  const envTree = await fakeTree(path.join(base, 'env-tree'), 2, 0, 1);
  const cacheHome = path.join(base, 'cache');
  const cached = await fakeTree(cachedTreeDir('v2.0.0', { XDG_CACHE_HOME: cacheHome }), 2, 0);
  assert.equal(cached, path.join(cacheHome, 'ipxe-farm', 'src', 'ipxe-v2.0.0'));
  const farm = starterFarm('t');
  farm.ipxe.source = 'farm-tree';
  const env = { XDG_CACHE_HOME: cacheHome, IPXE_SRC: envTree };
  const a = await locateIpxeSource(farm, base, { env, clone: false });
  assert.equal(a.origin, 'farm');
  assert.equal(a.dir, farmTree);
  farm.ipxe.source = undefined;
  const b = await locateIpxeSource(farm, base, { env, clone: false });
  assert.equal(b.origin, 'env');
  assert.equal(b.version, '2.0.1');
  // IPXE_SRC may point at the tree's src/ folder too.
  const c = await locateIpxeSource(farm, base, { env: { ...env, IPXE_SRC: path.join(envTree, 'src') }, clone: false });
  assert.equal(c.dir, envTree);
  const d = await locateIpxeSource(farm, base, { env: { XDG_CACHE_HOME: cacheHome }, clone: false });
  assert.equal(d.origin, 'cache');
  assert.equal(d.flavour, 'v2');
  assert.deepEqual(d.makeVars, []);
  assert.deepEqual(d.warnings, []);
  // HOME/.cache when XDG_CACHE_HOME is unset.
  assert.equal(ipxeCacheRoot({ HOME: '/home/x' }), '/home/x/.cache/ipxe-farm/src');
});

test('a named tree that is not iPXE is an error in one sentence, not a silent fall-through', async () => {
  const base = await tmp();
  const farm = starterFarm('t');
  farm.ipxe.source = 'nowhere';
  await assert.rejects(locateIpxeSource(farm, base, { env: {}, clone: false }), (e: unknown) => e instanceof FarmError && /is not an iPXE source tree/.test(e.message));
  farm.ipxe.source = undefined;
  await assert.rejects(locateIpxeSource(farm, base, { env: { IPXE_SRC: base }, clone: false }), (e: unknown) => e instanceof FarmError && /IPXE_SRC=/.test(e.message));
  await assert.rejects(locateIpxeSource(farm, base, { env: { XDG_CACHE_HOME: base }, clone: false }), (e: unknown) => e instanceof FarmError && e.code === 'ENOIPXE' && /--fetch/.test(e.fix ?? ''));
  farm.ipxe.ref = '../../etc';
  await assert.rejects(locateIpxeSource(farm, base, { env: { XDG_CACHE_HOME: base }, clone: false }), (e: unknown) => e instanceof FarmError && /not a valid git tag/.test(e.message));
});

test('the 2019 snapshot is recognised, gets its build flags and a warning about its TLS limits', async (t) => {
  if (!which('git')) return t.skip('SKIPPED LOUDLY: git is not installed');
  const dir = await fakeTree(path.join(await tmp(), 'ipxe-2019'), 1, 0, 0);
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'snapshot');
  const head = git('rev-parse', 'HEAD').trim();
  const s = await locateIpxeSource(starterFarm('t'), dir, { env: { IPXE_SRC: dir } });
  assert.equal(s.flavour, 'legacy');
  assert.equal(s.version, '1.0.0');
  assert.equal(s.commit, head);
  assert.equal(s.sourceId, head);
  assert.deepEqual(s.makeVars, ['NO_WERROR=1', 'EXTRA_CFLAGS=-fcommon']);
  assert.equal(s.needsTraditionalKey, true);
  assert.match(s.warnings.join(' '), /TLS_RSA_WITH_AES/);
  assert.match(s.warnings.join(' '), /~20 s/);
  const modern = await locateIpxeSource(starterFarm('t'), dir, { env: { IPXE_SRC: await fakeTree(path.join(await tmp(), 'x'), 1, 21, 1) } });
  assert.equal(modern.flavour, 'modern');
  assert.equal(modern.commit, undefined);
  assert.match(modern.sourceId, /^sha256:/);
});

test('cloning works from a reachable repository and leaves no partial folder when it fails', async (t) => {
  if (!which('git')) return t.skip('SKIPPED LOUDLY: git is not installed');
  const base = await tmp();
  // A local "upstream" with a tag, so the clone path itself is exercised without internet.
  const up = await fakeTree(path.join(base, 'upstream'), 2, 0);
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
  for (const a of [['init', '-q'], ['add', '.'], ['commit', '-q', '-m', 'v2'], ['tag', 'v2.0.0']]) execFileSync('git', ['-C', up, ...a], { env });
  const cacheEnv: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: path.join(base, 'cache') };
  delete cacheEnv.IPXE_SRC;
  const farm = starterFarm('t');
  const s = await locateIpxeSource(farm, base, { env: cacheEnv, upstream: up });
  assert.equal(s.origin, 'cloned');
  assert.equal(s.version, '2.0.0');
  assert.match(s.commit ?? '', /^[0-9a-f]{40}$/);
  // Second time it is found in the cache without cloning.
  assert.equal((await locateIpxeSource(farm, base, { env: cacheEnv, clone: false })).origin, 'cache');

  const dest = path.join(base, 'cache2', 'ipxe-v9');
  await assert.rejects(cloneIpxe('v9', dest, { env: cacheEnv, upstream: path.join(base, 'no-such-repo') }), (e: unknown) => e instanceof FarmError && e.code === 'ECLONE' && !e.message.includes('\n'));
  const left = await fsp.readdir(path.join(base, 'cache2'));
  assert.deepEqual(left, [], 'no partial clone left behind');
});

test('without internet the default upstream fails with one clear sentence naming the way out', async (t) => {
  if (!which('git')) return t.skip('SKIPPED LOUDLY: git is not installed');
  const base = await tmp();
  const env = { ...process.env, XDG_CACHE_HOME: base, IPXE_SRC: '' };
  const farm = starterFarm('t');
  farm.ipxe.ref = 'v1.21.1';
  try {
    const s = await locateIpxeSource(farm, base, { env, signal: AbortSignal.timeout(120_000) });
    t.diagnostic(`this machine reached the upstream repository: cloned ${s.version}`);
  } catch (e) {
    assert.ok(e instanceof FarmError, String(e));
    assert.equal(e.code, 'ECLONE');
    assert.match(e.message, /^Could not download iPXE v1\.21\.1 from https:\/\/github\.com\/ipxe\/ipxe\.git: .+\.$/);
    assert.ok(!e.message.includes('\n'));
    assert.match(e.fix ?? '', /IPXE_SRC/);
  }
});
