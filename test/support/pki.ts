import { tempFarm } from './farm';
import { openFarm } from '../../src/core/farm/handle';
import { initCa, issueClients, issueCodesign, issueServer, keyPoolSettled } from '../../src/core/pki';

/**
 * A fresh temp farm (loopback, free ports) with its CA, the server certificate (SANs localhost, 127.0.0.1,
 * 10.0.2.100), clients "dut1" and "dut2", and the code-signing certificate. Files: pkiPaths(farmLayout(root)).
 */
export async function farmWithPki(name = 'testfarm'): Promise<string> {
  const root = await tempFarm(name);
  const h = await openFarm(root);
  await initCa(h);
  await issueServer(h);
  await issueClients(h, ['dut1', 'dut2']);
  await issueCodesign(h);
  // A race's losing key lands in the spare pool just after issuance returns; tests start from a settled tree.
  await keyPoolSettled();
  return root;
}

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { which } from '../../src/core/process/light';

/** Why a test that needs openssl cannot run here, or undefined when it can. */
export function opensslMissing(): string | undefined {
  return which('openssl') ? undefined : 'SKIPPED LOUDLY: openssl is not installed (apt-get install openssl); the PKI is checked with the real openssl';
}

/** Run openssl (tests only: the product never does); returns status and output. */
export function openssl(args: string[], opts: { input?: string | Buffer; cwd?: string } = {}) {
  const r = spawnSync('openssl', args, { input: opts.input, cwd: opts.cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Path, mode and SHA-256 of every file under dir: compare before/after to prove that nothing changed on disk. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      const st = statSync(p);
      if (st.isDirectory()) { out[`${path.relative(dir, p)}/`] = (st.mode & 0o777).toString(8); walk(p); }
      else out[path.relative(dir, p)] = `${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

/** For assert.rejects: the error is a FarmError whose one sentence (cause + fix) matches. */
export function says(re: RegExp) {
  return (e: unknown): boolean => {
    const sentence = (e as { sentence?: string }).sentence;
    if (typeof sentence !== 'string') throw new Error(`expected a FarmError, got ${String(e)}`);
    if (!re.test(sentence)) throw new Error(`"${sentence}" does not match ${re}`);
    return true;
  };
}
