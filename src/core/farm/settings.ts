import { FarmError, UsageError } from '../errors';
import { updateFarm } from './load';
import type { Farm } from './model';

/**
 * The single-value farm settings `ipxe-farm set KEY VALUE` changes (the editor changes the same keys in
 * ipxe-farm.json with the schema's completion). Lists, profiles and clients have their own commands. Every change
 * goes through updateFarm: validated as a whole, written atomically, refused with the file untouched.
 */
export const SETTABLE = {
  name: 'string',
  'server.address': 'string',
  'server.httpsPort': 'integer',
  'server.httpPort': 'integer',
  'nginx.runtime': 'string',
  'nginx.image': 'string',
  'nginx.container': 'string',
  'ipxe.source': 'string',
  'ipxe.ref': 'string',
  'ipxe.debug': 'string',
  'ipxe.ntp': 'string',
  'ipxe.proxyDhcp': 'boolean',
  'ipxe.fastDhcpRetry': 'boolean',
  'qemu.accel': 'string',
  'qemu.memoryMiB': 'integer',
  'qemu.firmware': 'string',
  defaultProfile: 'string',
} as const;

export type SettableKey = keyof typeof SETTABLE;

function parseValue(key: SettableKey, text: string): string | number | boolean {
  const kind = SETTABLE[key];
  if (kind === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    throw new UsageError(`${key} takes true or false, not "${text}".`, `Example: ipxe-farm set ${key} true`);
  }
  if (kind === 'integer') {
    if (/^\d{1,9}$/.test(text)) return Number(text);
    throw new UsageError(`${key} takes a whole number, not "${text}".`);
  }
  return text;
}

function lookUp(obj: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** Set one value; returns what the farm reads before and after (defaults filled in). */
export async function setFarmSetting(root: string, key: string, text: string): Promise<{ key: SettableKey; before: unknown; after: unknown; farm: Farm }> {
  if (!(key in SETTABLE)) {
    throw new UsageError(`"${key}" is not a farm setting this command changes.`, `Use one of: ${Object.keys(SETTABLE).join(', ')}.`);
  }
  const k = key as SettableKey;
  const value = parseValue(k, text);
  let before: unknown;
  const { farm } = await updateFarm(root, (raw, current) => {
    before = lookUp(current as unknown as Record<string, unknown>, k);
    const parts = k.split('.');
    let at: Record<string, unknown> = raw;
    for (const p of parts.slice(0, -1)) {
      const next = at[p];
      if (next !== undefined && (typeof next !== 'object' || next === null || Array.isArray(next))) {
        throw new FarmError(`${p} in ipxe-farm.json is not an object, so ${k} cannot be set.`, `Fix ${p} in the file first (\`ipxe-farm show\` lists the problems).`, 'EUSAGE');
      }
      at = (next as Record<string, unknown>) ?? (at[p] = {});
    }
    at[parts.at(-1)!] = value;
  });
  return { key: k, before, after: lookUp(farm as unknown as Record<string, unknown>, k), farm };
}
