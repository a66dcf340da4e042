import { UsageError } from '../errors';
import type { Farm } from './model';
import { checkFarmText, loadFarm, type LoadedFarm, updateFarm } from './load';

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A setting's path in the farm file: `server.address` (dots), or a JSON pointer `/clients/dut1.lab/profile` when a
 * name itself holds a dot.
 */
export function settingPath(key: string): string[] {
  const k = key.trim();
  const parts = k.startsWith('/')
    ? k.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    : k.split('.');
  if (!k || parts.some((p) => p === '')) {
    throw new UsageError(`"${key}" is not a farm setting's name.`, 'Use a dotted path such as server.address or nginx.runtime, or a JSON pointer such as /clients/dut1/profile.');
  }
  return parts;
}

function lookup(value: Json, path: string[]): { found: boolean; value?: Json } {
  let v = value;
  for (const p of path) {
    if (Array.isArray(v) && /^\d+$/.test(p)) v = v[Number(p)];
    else if (isObj(v) && Object.hasOwn(v, p)) v = v[p];
    else return { found: false };
  }
  return { found: v !== undefined, value: v };
}

/** The value iPXE Farm uses for a setting (defaults filled in), as the farm's readers see it. */
export function getSetting(farm: Farm, key: string): Json {
  const path = settingPath(key);
  const hit = lookup(farm, path);
  if (!hit.found) throw new UsageError(`The farm has no setting ${key}.`, 'Run `ipxe-farm show` to see every setting and its value.');
  return hit.value;
}

/** A command-line VALUE: JSON when it reads as JSON (numbers, true/false, lists, quoted strings), else the text. */
export function parseSettingValue(text: string): Json {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Set (or, with `undefined`, remove) one setting and write the farm file only if it still loads. The validator is the
 * one judge of what a setting is: a key it does not read back is refused as unknown, so a typo never lands silently.
 */
export async function setSetting(root: string, key: string, value: Json, check?: Parameters<typeof updateFarm>[2]): Promise<LoadedFarm> {
  const path = settingPath(key);
  const apply = (raw: Record<string, Json>): void => {
    let o = raw;
    for (const p of path.slice(0, -1)) {
      if (!Object.hasOwn(o, p)) o[p] = {};
      const next = o[p];
      if (!isObj(next)) throw new UsageError(`${key} cannot be set: ${p} is not an object in the farm file.`, 'Set the enclosing setting as a whole instead.');
      o = next;
    }
    const last = path[path.length - 1]!;
    if (value === undefined) delete o[last];
    else o[last] = value;
  };
  if (value !== undefined) {
    const trial = structuredClone((await loadFarm(root)).raw);
    apply(trial);
    const { farm } = checkFarmText(JSON.stringify(trial));
    if (farm && !lookup(farm, path).found) {
      throw new UsageError(`The farm has no setting ${key}.`, 'Run `ipxe-farm show` to see every setting and its name.');
    }
  }
  return updateFarm(root, apply, check);
}
