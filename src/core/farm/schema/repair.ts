import type { z } from 'zod';

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The farm every reader gets even from a file with mistakes (the editor shows it, the boot service refuses only the
 * clients and profiles whose entries are wrong): the same schema parses a copy of the file from which each wrong value
 * is removed, so its default takes over; a wrong required value takes its enclosing entry with it. Each round removes
 * at least one value, so this ends; the last resort is `fallback`.
 */
export function repairedParse<S extends z.ZodType>(schema: S, raw: Json, fallback: () => z.output<S>): z.output<S> {
  const copy = structuredClone(raw);
  for (let round = 0; round < 100; round++) {
    const r = schema.safeParse(copy);
    if (r.success) return r.data;
    const doomed = r.error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, k]) : [i.path]));
    let removed = false;
    // Deepest and highest index first, so removing one array item does not move the next one.
    for (const path of doomed.sort(byDepthThenIndex)) removed = remove(copy, path) || removed;
    if (!removed) break;
  }
  return fallback();
}

function byDepthThenIndex(a: readonly PropertyKey[], b: readonly PropertyKey[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    return typeof a[i] === 'number' && typeof b[i] === 'number' ? (b[i] as number) - (a[i] as number) : String(a[i]) < String(b[i]) ? -1 : 1;
  }
  return b.length - a.length;
}

/**
 * Remove the value at `path`; when it is absent (a required value is missing), remove its parent instead. An issue
 * inside something already removed this round removes nothing more.
 */
function remove(root: Json, path: readonly PropertyKey[]): boolean {
  if (path.length === 0) return false;
  let parent: Json = root;
  for (const seg of path.slice(0, -1)) {
    const next = (Array.isArray(parent) || isObj(parent)) && Object.hasOwn(parent, seg) ? (parent as Record<PropertyKey, Json>)[seg as string] : undefined;
    if (next === undefined) return false;
    parent = next;
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === 'number' && last < parent.length) { parent.splice(last, 1); return true; }
  if (isObj(parent) && Object.hasOwn(parent, last as string)) { delete parent[last as string]; return true; }
  return remove(root, path.slice(0, -1));
}
