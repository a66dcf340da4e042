import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { which } from '../../../src/core/process/light';
import { locateIpxeSource } from '../../../src/core/ipxe/source';
import { testKernelUnavailable } from '../../support/kernel';
import { stockUnavailable } from '../../../src/core/stock/debianPackage';
import { findOvmf } from '../../../src/core/stock/ovmf';
import { userCacheDir } from '../../../src/core/fs/cacheDir';

const repo = path.resolve(__dirname, '..', '..', '..', '..');

async function skipReason(): Promise<string | undefined> {
  for (const p of ['nginx', 'qemu-system-x86_64', 'socat', 'make']) if (!which(p)) return `SKIPPED: ${p} is not installed: the demo was NOT run`;
  const k = testKernelUnavailable();
  if (k) return k;
  try {
    await locateIpxeSource({ ipxe: { ref: 'v2.0.0', targets: ['iso'] } }, os.tmpdir(), { clone: false });
  } catch (err) {
    return `SKIPPED: no iPXE source tree (set IPXE_SRC or run \`ipxe-farm ipxe source --fetch\`): the built-image demo was NOT run; the same demo on Debian's prebuilt iPXE (the stock-image demo test in this file) still ran — ${(err as Error).message}`;
  }
  return undefined;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    const st = statSync(p);
    return st.isDirectory() ? filesUnder(p) : st.isFile() ? [p] : [];
  });
}

interface DemoRun { dir: string; out: any; stderr: string; status: number | null }

function runDemoCli(args: string[], env: NodeJS.ProcessEnv = process.env): DemoRun {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'demo-test-'));
  chmodSync(parent, 0o711); // nginx's workers (www-data) must pass through to files/ and the socket
  const dir = path.join(parent, 'farm');
  const r = spawnSync(process.execPath, [path.join(repo, 'out', 'cli.js'), 'demo', dir, '--runtime', 'local', '--json', ...args], { encoding: 'utf8', timeout: 590_000, env });
  let out;
  try { out = JSON.parse(r.stdout); } catch {
    assert.fail(`ipxe-farm demo printed no JSON answer (exit ${r.status}, signal ${r.signal}); its progress:\n${r.stderr.split('\n').slice(-30).join('\n')}`);
  }
  return { dir, out, stderr: r.stderr, status: r.status };
}

/** The promises every demo keeps, whichever iPXE booted. */
function assertBootedWithSecretKept({ dir, out, stderr, status }: DemoRun): void {
  assert.equal(out.ok, true, `demo failed at ${out.failedStage}: ${out.error}\n${stderr}`);
  assert.equal(status, 0);
  const secret = JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8')).secrets.s3key as string;
  assert.ok(out.cmdline.includes(`farm.s3=${secret}`), 'the guest kernel got the secret on its command line');
  assert.ok(out.boot.stages.scriptFetched < out.boot.stages.linuxMarker, 'the script came over mTLS before Linux ran');
  for (const f of [...filesUnder(path.join(dir, '.ipxe-farm')), ...filesUnder(path.join(dir, 'nginx'))]) {
    assert.ok(!readFileSync(f).includes(secret), `${f} must not contain the secret`);
  }
  assert.ok(!stderr.includes(secret), 'the demo\'s own progress output must not contain the secret');
  assert.match(readFileSync(out.boot.logFile, 'utf8'), /«redacted»/);
}

/**
 * A fresh machine as far as iPXE goes: no IPXE_SRC, a cache with no iPXE tree, no clone (--offline stands for "GitHub
 * unreachable"). The cache keeps the shared stock binaries and test kernel (links), so nothing is downloaded again.
 */
function freshMachineEnv(): NodeJS.ProcessEnv {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'demo-fresh-cache-'));
  mkdirSync(path.join(cache, 'ipxe-farm'));
  for (const entry of ['stock', 'test-kernel']) {
    const shared = path.join(userCacheDir(), entry);
    if (existsSync(shared)) symlinkSync(shared, path.join(cache, 'ipxe-farm', entry));
  }
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cache };
  delete env.IPXE_SRC;
  return env;
}

test('on a machine with no iPXE source and no GitHub, `ipxe-farm demo` boots Debian\'s prebuilt EFI iPXE over mutual TLS to Linux, pins kernel + initrd by SHA-256, and says why and how to get the built image', { timeout: 600_000 }, async (t) => {
  for (const p of ['nginx', 'qemu-system-x86_64', 'socat', 'mformat', 'mcopy']) if (!which(p)) return t.skip(`SKIPPED: ${p} is not installed: the stock-image demo was NOT run`);
  const why = testKernelUnavailable() ?? stockUnavailable() ?? (findOvmf() ? undefined : 'SKIPPED: ovmf is not installed: the stock-image demo was NOT run');
  if (why) return t.skip(why);
  const run = runDemoCli(['--offline'], freshMachineEnv());
  assertBootedWithSecretKept(run);
  assert.equal(run.out.ipxe, 'stock');
  assert.equal(run.out.integrity, 'sha256');
  assert.match(run.out.ipxeWhy, /No iPXE source tree/);
  assert.match(run.stderr, /\[source\] booting Debian's prebuilt EFI iPXE \(No iPXE source tree.*`ipxe-farm ipxe source --fetch`.*IPXE_SRC/);
  assert.match(run.stderr, /integrity: SHA-256 pins in the served script/);
  const profile = JSON.parse(readFileSync(path.join(run.dir, 'ipxe-farm.json'), 'utf8')).profiles.linux;
  assert.equal(profile.verify, false);
  assert.equal(profile.extra.filter((l: string) => /^sha256sum --set farm_sum (kernel|initrd0)$/.test(l)).length, 2);
  assert.match(run.out.boot.logFile, /\.serial\.log$/);
});

test('`ipxe-farm demo` boots dut1 over mutual TLS to Linux with its secret, and the secret stays out of every log', { timeout: 600_000 }, async (t) => {
  const why = await skipReason();
  if (why) { t.skip(why); return; }
  const run = runDemoCli([]);
  assertBootedWithSecretKept(run);
  assert.equal(run.out.ipxe, 'built');
  assert.equal(run.out.integrity, 'imgverify');
  assert.match(run.stderr, /integrity: imgverify/);
});
