import { FarmError, UsageError } from '../errors';
import { updateFarm } from './load';
import { CONSOLE_DRIVERS, POWER_DRIVERS } from './model';

/**
 * `ipxe-farm client power|console NAME DRIVER KEY=VALUE…`: the same sections the farm file holds, written through
 * the validator (a section it refuses is not written). Numbers and JSON lists are read as such.
 */
const NUMERIC = new Set(['port', 'outlet', 'baud', 'timeoutSeconds', 'cipherSuite']);
const LISTS = new Set(['on', 'off', 'cycle', 'status']);

export function parseSettings(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of pairs) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`"${kv}" is not KEY=VALUE.`, 'Example: host=127.0.0.1 port=16421 pdu=pdu1 outlet=3');
    const [k, v] = [kv.slice(0, i), kv.slice(i + 1)];
    if (NUMERIC.has(k) && /^\d+$/.test(v)) out[k] = Number(v);
    else if (LISTS.has(k)) {
      try { out[k] = JSON.parse(v); } catch {
        throw new UsageError(`${k}= must be a JSON list of program and arguments (no shell), e.g. ${k}='["relay","3","${k}"]'.`);
      }
    } else out[k] = v;
  }
  return out;
}

export async function setClientBoard(root: string, name: string, section: 'power' | 'console', driver: string | undefined, settings: Record<string, unknown>): Promise<void> {
  const drivers: readonly string[] = section === 'power' ? POWER_DRIVERS : CONSOLE_DRIVERS;
  if (driver !== undefined && driver !== 'none' && !drivers.includes(driver)) {
    throw new UsageError(`Unknown ${section} driver "${driver}": use one of ${drivers.join(', ')}${section === 'power' ? ' (Redfish is not offered: no emulator to test it against)' : ''}.`);
  }
  await updateFarm(root, (raw) => {
    const clients = (raw.clients ?? {}) as Record<string, Record<string, unknown>>;
    const c = clients[name];
    if (!c) throw new FarmError(`There is no client "${name}" in ipxe-farm.json.`, `Add it first with \`ipxe-farm client set ${name}\`.`, 'ENOCLIENT');
    if (driver === 'none') delete c[section];
    else c[section] = { driver, ...settings };
  });
}
