/**
 * ▶ to "script served" on the same QEMU machine two ways, side by side: as a board (pdudaemon power cycle through its
 * HTTP API + localcmdline outlet, console through ser2net) and as a QEMU client the farm starts itself. Target: the
 * board path costs at most +0.5 s. Then `train` on the QEMU client: N boots to the Linux marker, wall time and
 * verdicts, and the health figures checked against the recorded verdicts and the boot service's events.
 *
 *   npm run bench -- boards [--runs 3] [--train 20]
 *
 * Runs alternate (board, QEMU, board, …) so load from other work on the machine hits both alike; medians printed.
 * Stock EFI iPXE (Debian's), mutual TLS to the product's nginx + boot service, restricted user networking.
 */
import { parseArgs } from 'node:util';
import { boardRigUnavailable, startBoardRig } from '../../test/support/boardRig';
import { updateFarm } from '../../src/core/farm/load';
import { readBootEvents } from '../../src/core/boot/events';
import { bootVerdict } from '../../src/core/verdict/boot';
import { healthOf, readVerdicts } from '../../src/core/verdict/health';
import { openFarm } from '../../src/core/farm/handle';

const { values } = parseArgs({ options: { runs: { type: 'string' }, train: { type: 'string' } } });
const runs = Number(values.runs ?? 3);
const train = Number(values.train ?? 20);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const skip = await boardRigUnavailable();
  if (skip) { console.error(skip); process.exit(2); }
  const rig = await startBoardRig('benchboards');
  const root = rig.root;
  const qemu = { efi: true, image: rig.stick.image, efiVars: rig.stick.vars };
  let boardSections: Record<string, unknown> = {};
  const setBoard = async (on: boolean) => updateFarm(root, (raw) => {
    const c = (raw.clients as Record<string, Record<string, unknown>>).dut1!;
    if (on) Object.assign(c, boardSections);
    else { boardSections = { power: c.power, console: c.console }; delete c.power; delete c.console; }
  });
  try {
    const board: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < runs; i++) {
      const b = await bootVerdict(await openFarm(root), 'dut1', { timeoutMs: 300_000, stopAtStage: 'scriptServed', record: false });
      if (b.stages.scriptServed === undefined) throw new Error(`board run ${i + 1}: ${b.reason}`);
      board.push(b.stages.scriptServed);
      // The board still runs its boot: stop it (its disk image is locked while it runs) before QEMU boots the same stick.
      rig.board.stop();
      await setBoard(false);
      const q = await bootVerdict(await openFarm(root), 'dut1', { timeoutMs: 300_000, stopAtStage: 'scriptServed', record: false, qemu });
      await setBoard(true);
      if (q.stages.scriptServed === undefined) throw new Error(`QEMU run ${i + 1}: ${q.reason}`);
      direct.push(q.stages.scriptServed);
      console.log(`run ${i + 1}: board (pdudaemon + ser2net) ${s(b.stages.scriptServed)} (power cycle done at ${s(b.stages.powered ?? NaN)}) · QEMU driver ${s(q.stages.scriptServed)}`);
    }
    rig.board.stop();
    const d = median(board) - median(direct);
    console.log(`\n▶ to "script served", median of ${runs}: board ${s(median(board))}, QEMU driver ${s(median(direct))}, difference ${d >= 0 ? '+' : ''}${s(d)} (target ≤ +0.50 s)`);

    if (train > 0) {
      await setBoard(false);
      const before = (await readVerdicts(root)).length;
      const t0 = Date.now();
      const outcomes: string[] = [];
      for (let i = 0; i < train; i++) {
        const v = await bootVerdict(await openFarm(root), 'dut1', { timeoutMs: 300_000, qemu });
        outcomes.push(v.outcome);
        console.log(`train ${i + 1}/${train}: ${v.outcome.toUpperCase()} in ${s(v.elapsedMs)}${v.outcome === 'fail' ? ` — ${v.reason}` : ''}`);
      }
      const wall = Date.now() - t0;
      const recorded = (await readVerdicts(root)).slice(before);
      const h = healthOf('dut1', recorded, { last: train, threshold: 0.9 });
      const served = (await readBootEvents(root)).filter((e) => e.client === 'dut1' && e.status === 200 && e.path.split('?')[0] !== '/why.ipxe' && Date.parse(e.time) >= t0).length;
      console.log(`\ntrain --boots ${train} (QEMU client, stock EFI, mTLS): ${s(wall)} wall, ${h.passed}/${train} PASS, state ${h.state}`);
      console.log(`health agrees with the runs: ${h.passed === outcomes.filter((o) => o === 'pass').length ? 'yes' : 'NO'}; scripts served by the boot service in that time: ${served} (one per boot: ${served === train ? 'yes' : 'NO'})`);
    }
  } finally {
    await rig.stop();
  }
}

void main().catch((err) => { console.error(err); process.exit(1); });
