/**
 * iPXE image build benchmark, real make throughout:
 *   clean    — the first ISO in a tree with no objects (a private copy of the cached tree, so the shared one is untouched)
 *   another  — the ISO for a second client right after (only EMBED/CERT/PRIVKEY change)        target ≤ 5 s
 *   20       — ISOs for 20 clients one after another, after that one clean build              target ≤ 2 min
 * Run (from the repository root):
 *   npx esbuild bench/ipxe/build.ts --bundle --platform=node --outfile=out/bench/ipxe-build.js && node out/bench/ipxe-build.js
 * Prints wall time and the CPU time (user+sys) of make and its children.
 * Options: --clients 20   --reuse (skip the clean build: use the cached tree as it is)   --target iso|usb
 * The source tree is IPXE_SRC or ~/.cache/ipxe-farm/src/ipxe-v2.0.0. Builds use make -j2 (the machine has 2 cores).
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { tempFarm } from '../../test/support/farm';
import { loadFarm, updateFarm } from '../../src/core/farm/load';
import { initCa, issueClients, issueServer } from '../../src/core/pki';
import { buildClientImage } from '../../src/core/ipxe/build';
import { locateIpxeSource, type IpxeSource } from '../../src/core/ipxe/source';
import { runOk } from '../../src/core/process/run';
import { openFarm } from '../../src/core/farm/handle';

const { values: o } = parseArgs({
  options: {
    clients: { type: 'string', default: '20' },
    reuse: { type: 'boolean', default: false },
    target: { type: 'string', default: 'iso' },
  },
});
const count = Number(o.clients);
const target = o.target === 'usb' ? 'usb' : 'iso';

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * CPU seconds (user + sys) of every child this process has waited for, from /proc/self/stat: make and its
 * compilers. On a busy shared machine wall time mostly measures the neighbours; this measures the build.
 */
async function childCpuMs(): Promise<number> {
  const stat = await fsp.readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: state is field 3, so cutime (16) and cstime (17) sit at indexes 13 and 14.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}
const verdict = (ok: boolean) => (ok ? 'OK' : 'OVER TARGET');

async function main(): Promise<void> {
  const root = await tempFarm('bench');
  const h = await openFarm(root);
  await initCa(h);
  await issueServer(h);
  const names = Array.from({ length: count + 2 }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
  await issueClients(h, names);
  const shared = await locateIpxeSource(h.farm, root, { clone: false });
  console.log(`iPXE ${shared.version} at ${shared.dir}; ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (os.loadavg()[0]! > os.availableParallelism()) console.log('note: the machine is busy with other work; wall times below include waiting for CPU (the CPU figures do not)');

  let source: IpxeSource = shared;
  let copy: string | undefined;
  const figures: string[] = [];
  try {
    if (!o.reuse) {
      // A private copy without any bin*/ folder: a true clean build, and the shared tree's objects stay as they are.
      copy = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-bench-tree-'));
      await runOk('cp', ['-a', shared.dir, path.join(copy, 'ipxe')]);
      for (const d of await fsp.readdir(path.join(copy, 'ipxe', 'src'))) {
        if (d.startsWith('bin')) await fsp.rm(path.join(copy, 'ipxe', 'src', d), { recursive: true, force: true });
      }
      await updateFarm(root, (raw) => { (raw.ipxe as Record<string, unknown>).source = path.join(copy!, 'ipxe'); });
      source = await locateIpxeSource((await loadFarm(root)).farm, root, { clone: false });
      const cpu0 = await childCpuMs();
      const clean = await buildClientImage(await openFarm(root), names[0]!, { target, source });
      const cpu = (await childCpuMs()) - cpu0;
      figures.push(`clean build (${target}, make -j2):            ${secs(clean.durationMs)} wall, ${secs(cpu)} CPU (expected 70–110 s wall on an idle 2-core machine)`);
      console.log(figures.at(-1));
    } else {
      const warm = await buildClientImage(await openFarm(root), names[0]!, { target, source });
      figures.push(`first build in the reused tree:            ${secs(warm.durationMs)}   (not a clean build: --reuse)`);
      console.log(figures.at(-1));
    }

    const cpuA = await childCpuMs();
    const another = await buildClientImage(await openFarm(root), names[1]!, { target, source });
    const anotherCpu = (await childCpuMs()) - cpuA;
    figures.push(`rebuild for another client:                ${secs(another.durationMs)} wall, ${secs(anotherCpu)} CPU   target ≤ 5 s: ${verdict(another.durationMs <= 5000)}`);
    console.log(figures.at(-1));

    const per: number[] = [];
    const cpuN = await childCpuMs();
    const t0 = Date.now();
    for (const n of names.slice(2, 2 + count)) {
      const r = await buildClientImage(await openFarm(root), n, { target, source });
      per.push(r.durationMs);
    }
    const total = Date.now() - t0;
    const totalCpu = (await childCpuMs()) - cpuN;
    per.sort((a, b) => a - b);
    figures.push(`${count} clients after the clean build:        ${secs(total)} total, per client median ${secs(per[Math.floor(per.length / 2)]!)}, max ${secs(per.at(-1)!)}; ${secs(totalCpu)} CPU   target ≤ 2 min: ${verdict(total <= 120_000)}`);
    console.log(figures.at(-1));
  } finally {
    if (copy) await fsp.rm(copy, { recursive: true, force: true });
    await fsp.rm(path.dirname(root), { recursive: true, force: true });
  }
  console.log(`\n# iPXE build benchmark (${new Date().toISOString()}, load after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})\n${figures.join('\n')}`);
}

main().catch((err) => {
  console.error(`benchmark failed: ${(err as Error).message}`);
  process.exit(1);
});
