import type { Farm } from './model';
import { FarmSchema, FARM_VERSION, NameSchema } from './schema/farm';
import { farmIssues, plainSentence } from './schema/issues';
import { repairedParse } from './schema/repair';
import { crossChecks } from './crossChecks';
import type { FarmIssue } from './issue';

export type { FarmIssue };
export { normaliseMac } from './mac';

/**
 * Check the farm file in full and collect every problem at once (the editor shows them all, the CLI prints them all).
 * Missing settings take the schema's defaults, so a hand-written minimal file works. The farm is returned even when
 * there are errors (wrong values left out, see repair.ts), so a caller can still use what is right.
 */
export function validateFarm(raw: unknown): { farm: Farm; issues: FarmIssue[] } {
  const first = FarmSchema.safeParse(raw, { error: plainSentence });
  const structural = first.success ? [] : farmIssues(first.error.issues);
  const farm = first.success ? first.data : repairedParse(FarmSchema, withUsableName(raw), starter);
  return { farm, issues: [...structural, ...crossChecks(farm, raw)] };
}

/** A wrong farm name is reported, but the rest of the file is still read (under the starter's name) and checked. */
function withUsableName(raw: unknown): unknown {
  const obj = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  return obj && !NameSchema.safeParse(obj.name).success ? { ...obj, name: 'farm' } : raw;
}

function starter(): Farm {
  return FarmSchema.parse({ version: FARM_VERSION, name: 'farm' });
}
