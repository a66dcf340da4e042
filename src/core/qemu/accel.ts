import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import { ensureDir, writeFileAtomic, parseJsonRecord, userCacheDir } from '../fs/light';
import { run } from '../process';
import { QEMU_PROGRAM } from './args';

/**
 * Does `-accel kvm` really run guests here? /dev/kvm can exist and open while KVM cannot run a modern kernel (nested
 * sandboxes without SSE3: Linux hangs after "Probing EDD"). So the answer comes from a tiny VM, and is cached per
 * QEMU version, kernel and CPU, because the probe costs a second and every boot would pay it.
 */

/** The probe's answer, also what the per-user cache file accel.json holds. */
const AccelProbeSchema = z.object({
  accel: z.enum(['kvm', 'tcg']),
  /** Why KVM was not used, in one sentence (empty when it was). */
  reason: z.string(),
  key: z.string(),
});
export type AccelProbe = z.output<typeof AccelProbeSchema>;

const MARKER = 'IPXE-FARM-KVM-OK';

/** A 512-byte boot sector: writes the marker to COM1, then leaves through isa-debug-exit (exit code 1). */
export function probeBootSector(): Buffer {
  const sector = Buffer.alloc(512);
  const code = [
    0x31, 0xc0, // xor ax, ax
    0x8e, 0xd8, // mov ds, ax
    0xfc, // cld
    0xba, 0xf8, 0x03, // mov dx, 0x3f8
    0xbe, 0x1a, 0x7c, // mov si, 0x7c1a (the message)
    0xac, // lodsb
    0x84, 0xc0, // test al, al
    0x74, 0x03, // jz done
    0xee, // out dx, al
    0xeb, 0xf8, // jmp lodsb
    0xb0, 0x00, // done: mov al, 0
    0xe6, 0xf4, // out 0xf4, al  (isa-debug-exit)
    0xf4, // hlt
    0xeb, 0xfd, // jmp hlt
  ];
  Buffer.from(code).copy(sector, 0);
  Buffer.from(`${MARKER}\r\n\0`, 'latin1').copy(sector, 26);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

async function probeKey(): Promise<string> {
  const cpu = os.cpus()[0]?.model ?? 'cpu';
  const v = await run(QEMU_PROGRAM, ['--version'], { timeout: 10_000 }).catch(() => undefined);
  const qemu = v?.stdout.split('\n')[0] ?? 'qemu';
  return `${qemu} | ${os.release()} | ${cpu}`;
}

async function probeNow(key: string): Promise<AccelProbe> {
  try {
    await fsp.access('/dev/kvm', fsp.constants.R_OK | fsp.constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm is missing or not accessible to this user', key };
  }
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-farm-kvm-'));
  try {
    const img = path.join(dir, 'probe.img');
    await fsp.writeFile(img, probeBootSector());
    const r = await run(QEMU_PROGRAM, [
      '-accel', 'kvm', '-m', '32', '-nographic', '-no-reboot', '-nic', 'none',
      '-drive', `if=ide,format=raw,file=${img}`,
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    ], { timeout: 15_000, input: '' }).catch((e: Error) => ({ exitCode: -1, stdout: '', stderr: e.message }));
    const out = `${r.stdout}\n${r.stderr}`;
    // QEMU's default CPU asks for SSE3 & co.; a KVM that cannot give them runs the BIOS but not Linux.
    const missing = /host doesn't support requested feature: (\S+)/.exec(out);
    if (missing) return { accel: 'tcg', reason: `KVM here lacks a CPU feature guests need (${missing[1]})`, key };
    if (!out.includes(MARKER)) return { accel: 'tcg', reason: `a test VM under KVM did not run (${out.trim().split('\n').pop() ?? 'no output'})`, key };
    return { accel: 'kvm', reason: '', key };
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** The cached answer for this machine (`key`); undefined when there is none or it cannot be read: probe again. */
export async function readAccelCache(file: string, key: string): Promise<AccelProbe | undefined> {
  const cached = await fsp.readFile(file, 'utf8').then((t) => parseJsonRecord(t, AccelProbeSchema, file), () => undefined);
  return cached?.ok && cached.value.key === key ? cached.value : undefined;
}

let memo: Promise<AccelProbe> | undefined;

/** The accelerator to use for `auto`: KVM when a test VM really runs under it, else TCG. Cached on disk and in memory. */
export function probeAccel(): Promise<AccelProbe> {
  memo ??= (async () => {
    const key = await probeKey();
    const file = path.join(userCacheDir(), 'accel.json');
    const cached = await readAccelCache(file, key);
    if (cached) return cached;
    const answer = await probeNow(key);
    try {
      await ensureDir(path.dirname(file));
      await writeFileAtomic(file, `${JSON.stringify(answer, null, 2)}\n`);
    } catch { /* a read-only cache only costs a probe next time */ }
    return answer;
  })();
  return memo;
}

export async function resolveAccel(wanted: 'auto' | 'kvm' | 'tcg'): Promise<{ accel: 'kvm' | 'tcg'; note?: string }> {
  if (wanted !== 'auto') return { accel: wanted };
  const p = await probeAccel();
  return p.accel === 'kvm' ? { accel: 'kvm' } : { accel: 'tcg', note: `Using TCG emulation (slower): ${p.reason}.` };
}
