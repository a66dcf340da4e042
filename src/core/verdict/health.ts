import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as z from 'zod';
import { ensureDir, parseJsonLine } from '../fs/light';
import { farmLayout } from '../farm/light';
import type { BootVerdict } from './follow';

/**
 * Every verdict, one JSON line each in .ipxe-farm/verdicts.jsonl (0600): appended with a single O_APPEND write, so
 * concurrent boots never interleave or tear a line and nothing earlier is ever rewritten. Health is read from it:
 * per client, the success rate over the last N boots, the last failure's reason, and a state — "flaky" when some
 * boots fail (CI-tron retires such boards), "failing" when none of the last N passed.
 */
export function verdictsFile(root: string): string {
  return path.join(farmLayout(root).runtime, 'verdicts.jsonl');
}

export async function recordVerdict(root: string, v: BootVerdict): Promise<void> {
  const file = verdictsFile(root);
  await ensureDir(path.dirname(file), 0o700);
  const line = `${JSON.stringify({ client: v.client, outcome: v.outcome, reason: v.reason, refusal: v.refusal, stages: v.stages, startedAt: v.startedAt, elapsedMs: v.elapsedMs })}\n`;
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, line);
  } finally {
    fs.closeSync(fd);
  }
}

export type RecordedVerdict = Pick<BootVerdict, 'client' | 'outcome' | 'reason' | 'refusal' | 'stages' | 'startedAt' | 'elapsedMs'>;
const RecordedVerdictSchema = z.object({
  client: z.string(),
  outcome: z.enum(['pass', 'fail']),
  reason: z.string(),
  refusal: z.string().optional(),
  stages: z.record(z.string(), z.number()),
  startedAt: z.string(),
  elapsedMs: z.number(),
}) satisfies z.ZodType<RecordedVerdict>;

export async function readVerdicts(root: string): Promise<RecordedVerdict[]> {
  let text: string;
  try { text = await fsp.readFile(verdictsFile(root), 'utf8'); } catch { return []; }
  const out: RecordedVerdict[] = [];
  for (const l of text.split('\n')) {
    if (!l.trim()) continue;
    const v = parseJsonLine(l, RecordedVerdictSchema);
    if (v) out.push(v);
  }
  return out;
}

export type HealthState = 'healthy' | 'flaky' | 'failing' | 'untested';

export interface ClientHealth {
  client: string;
  boots: number;
  passed: number;
  /** passed / boots over the last N, 0..1 (undefined without boots). */
  successRate?: number;
  state: HealthState;
  lastOutcome?: 'pass' | 'fail';
  lastFailure?: { at: string; reason: string };
}

export interface HealthOptions { last: number; threshold: number }
export const DEFAULT_HEALTH: HealthOptions = { last: 20, threshold: 0.9 };

export function healthOf(client: string, verdicts: RecordedVerdict[], o: HealthOptions = DEFAULT_HEALTH): ClientHealth {
  const mine = verdicts.filter((v) => v.client === client).slice(-o.last);
  const passed = mine.filter((v) => v.outcome === 'pass').length;
  const fail = [...mine].reverse().find((v) => v.outcome === 'fail');
  const rate = mine.length ? passed / mine.length : undefined;
  const state: HealthState = rate === undefined ? 'untested' : rate === 0 ? 'failing' : rate < o.threshold ? 'flaky' : 'healthy';
  return {
    client, boots: mine.length, passed, successRate: rate, state, lastOutcome: mine[mine.length - 1]?.outcome,
    lastFailure: fail ? { at: fail.startedAt, reason: fail.reason } : undefined,
  };
}

export async function farmHealth(root: string, clients: string[], o: HealthOptions = DEFAULT_HEALTH): Promise<ClientHealth[]> {
  const all = await readVerdicts(root);
  const names = [...new Set([...clients, ...all.map((v) => v.client)])];
  return names.map((c) => healthOf(c, all, o));
}
