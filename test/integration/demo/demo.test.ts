import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { which } from '../../../src/core/process/run';
import { locateIpxeSource } from '../../../src/core/ipxe/source';
import { testKernelUnavailable } from '../../support/kernel';

const repo = path.resolve(__dirname, '..', '..', '..', '..');

async function skipReason(): Promise<string | undefined> {
  for (const p of ['nginx', 'qemu-system-x86_64', 'socat', 'make']) if (!which(p)) return `SKIPPED: ${p} is not installed: the demo was NOT run`;
  const k = testKernelUnavailable();
  if (k) return k;
  try {
    await locateIpxeSource({ ipxe: { ref: 'v2.0.0', targets: ['iso'] } }, os.tmpdir(), { clone: false });
  } catch (err) {
    return `SKIPPED: no iPXE source tree (set IPXE_SRC or run \`ipxe-farm ipxe source\`): the demo was NOT run — ${(err as Error).message}`;
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

test('`ipxe-farm demo` boots dut1 over mutual TLS to Linux with its secret, and the secret stays out of every log', { timeout: 600_000 }, async (t) => {
  const why = await skipReason();
  if (why) { t.skip(why); return; }
  const parent = mkdtempSync(path.join(os.tmpdir(), 'demo-test-'));
  chmodSync(parent, 0o711); // nginx's workers (www-data) must pass through to files/ and the socket
  const dir = path.join(parent, 'farm');
  const r = spawnSync(process.execPath, [path.join(repo, 'out', 'cli.js'), 'demo', dir, '--runtime', 'local', '--json'], { encoding: 'utf8', timeout: 590_000 });
  let out;
  try { out = JSON.parse(r.stdout); } catch {
    assert.fail(`ipxe-farm demo printed no JSON answer (exit ${r.status}, signal ${r.signal}); its progress:\n${r.stderr.split('\n').slice(-30).join('\n')}`);
  }
  assert.equal(out.ok, true, `demo failed at ${out.failedStage}: ${out.error}\n${r.stderr}`);
  assert.equal(r.status, 0);
  const secret = JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8')).secrets.s3key as string;
  assert.ok(out.cmdline.includes(`farm.s3=${secret}`), 'the guest kernel got the secret on its command line');
  assert.ok(out.boot.stages.scriptFetched < out.boot.stages.linuxMarker, 'the script came over mTLS before Linux ran');
  for (const f of [...filesUnder(path.join(dir, '.ipxe-farm')), ...filesUnder(path.join(dir, 'nginx'))]) {
    assert.ok(!readFileSync(f).includes(secret), `${f} must not contain the secret`);
  }
  assert.ok(!r.stderr.includes(secret), 'the demo\'s own progress output must not contain the secret');
  assert.match(readFileSync(out.boot.logFile, 'utf8'), /«redacted»/);
});
