import type { z } from 'zod';

/**
 * The JSON files iPXE Farm reads besides the farm file (records it wrote earlier, other programs' output) are parsed
 * here, each against the small zod definition next to its reader, so a torn, foreign or older file is one sentence at
 * the edge instead of a crash deep inside. The reader decides whether that sentence refuses or is ignored.
 */
export type JsonRecord<T> = { ok: true; value: T } | { ok: false; problem: string; issues?: readonly z.core.$ZodIssue[] };

/** `what` names the file or output in the sentence, e.g. "ipxe/dut1/out/manifest.json". */
export function parseJsonRecord<S extends z.ZodType>(text: string, schema: S, what: string): JsonRecord<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // The parser's own message quotes the text around the error, which may be a secret: say only which file.
    return { ok: false, problem: `${what} is not valid JSON.` };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const first = r.error.issues[0]!;
  const at = first.path.length ? `/${first.path.map(String).join('/')}` : 'the top';
  return { ok: false, problem: `${what} is not in the expected form at ${at} (${first.message}).`, issues: r.error.issues };
}

/**
 * One line of a JSON-lines log (boot events, verdicts): the record, or undefined for a line torn by a crash mid-write
 * or not in the form this version writes. A log is read for what it can say; one bad line never hides the others.
 */
export function parseJsonLine<S extends z.ZodType>(line: string, schema: S): z.output<S> | undefined {
  const r = parseJsonRecord(line, schema, 'a log line');
  return r.ok ? r.value : undefined;
}
