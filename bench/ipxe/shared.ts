/**
 * "A new board's image in a second": the shared-image path (iPXE built once per farm and firmware, each client's
 * image = that binary + its identity script) against today's per-client make, side by side in one run:
 *   first    — the farm's first shared image (builds the shared binary when the tree has none for this farm)
 *   one more — one more client's image after that: shared path vs per-client make          target ≤ 1 s
 *   20 new   — 20 new clients' images with the shared path                                   target ≤ 20 s
 * Run (from the repository root):
 *   IPXE_SRC=DIR npm run bench -- shared [--target iso|efi] [--clients 20]
 * Prints wall time, and for make the CPU time (user+sys) of its children, since the machine is shared.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { tempFarm } from '../../test/support/farm';
import { initCa, issueClients, issueServer } from '../../src/core/pki';
import { buildClientImage } from '../../src/core/ipxe/build';
import { assembleClientImage } from '../../src/core/ipxe/assemble';
import { locateIpxeSource } from '../../src/core/ipxe/source';
import { openFarm } from '../../src/core/farm/handle';

const { values: o } = parseArgs({ options: { clients: { type: 'string', default: '20' }, target: { type: 'string', default: 'iso' } } });
const count = Number(o.clients);
const target = o.target === 'efi' ? 'efi' : 'iso';
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function childCpuMs(): Promise<number> {
  const stat = await fsp.readFile('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  const [t0, c0] = [Date.now(), await childCpuMs()];
  const value = await fn();
  return { ms: Date.now() - t0, cpuMs: (await childCpuMs()) - c0, value };
}

async function main(): Promise<void> {
  const root = await tempFarm('sharedbench');
  const h = await openFarm(root);
  await initCa(h);
  await issueServer(h);
  const names = Array.from({ length: count + 3 }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
  await issueClients(h, names);
  const source = await locateIpxeSource(h.farm, root, { clone: false });
  console.log(`iPXE ${source.version} at ${source.dir}; target ${target}; ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const first = await timed(() => assembleClientImage(h, names[0]!, { source, target }));
  console.log(`first shared image (${first.value.baseReused ? 'shared binary reused' : 'shared binary built'}): ${secs(first.ms)} wall, make CPU ${secs(first.cpuMs)}`);
  // Today's path, warmed once so that only EMBED/CERT/PRIVKEY change, as for any later client.
  await buildClientImage(h, names[1]!, { source, target });
  const make = await timed(() => buildClientImage(h, names[2]!, { source, target }));
  const one = await timed(() => assembleClientImage(h, names[2]!, { source, target }));
  console.log(`one more client: shared ${secs(one.ms)} (make CPU ${secs(one.cpuMs)}) vs per-client make ${secs(make.ms)} (make CPU ${secs(make.cpuMs)}) · target ≤ 1 s: ${one.ms <= 1000 ? 'OK' : 'OVER TARGET'}`);
  const many = await timed(async () => { for (const n of names.slice(3, 3 + count)) await assembleClientImage(h, n, { source, target }); });
  console.log(`${count} new clients, shared: ${secs(many.ms)} (${secs(many.ms / count)} each) · target ≤ 20 s: ${many.ms <= 20_000 ? 'OK' : 'OVER TARGET'}`);
  await fsp.rm(root, { recursive: true, force: true });
}

main().catch((err) => { console.error(err); process.exit(1); });
