import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as z from 'zod';
import { FarmError } from '../errors';
import { writeFileAtomic, parseJsonRecord } from '../fs/light';
import { farmLayout, checkName, emptyTable, hasOwnName } from '../farm/light';

/**
 * secrets.json: `{"version":1,"secrets":{"NAME":"value"}}`, mode 0600, written atomically. Profiles refer to a secret
 * as {{secret.NAME}}; the value only ever leaves this file inside a boot script sent over mutual TLS.
 */
export const SECRETS_VERSION = 1;
export type Secrets = Record<string, string>;

const SecretsFileSchema = z.object({
  version: z.literal(SECRETS_VERSION).optional(),
  secrets: z.record(z.string(), z.string()),
});

export function parseSecrets(text: string, file = 'secrets.json'): Secrets {
  const r = parseJsonRecord(text, SecretsFileSchema, file);
  if (r.ok) return Object.assign(emptyTable<string>(), r.value.secrets);
  // The sentences name the file and a secret's name, never a value (the JSON parser's message could quote one).
  if (!r.issues) throw new FarmError(`${file} is not valid JSON.`, 'Fix it by hand, or remove it and set the secrets again with `ipxe-farm secret set NAME`.', 'ESECRETS');
  const bad = r.issues.find((i) => i.path.length === 2 && i.path[0] === 'secrets');
  if (bad) throw new FarmError(`Secret "${String(bad.path[1])}" in ${file} is not a string.`, 'Set it again with `ipxe-farm secret set NAME`.', 'ESECRETS');
  throw new FarmError(`${file} must hold {"version": 1, "secrets": {"NAME": "value"}}.`, 'Fix it, or set the secrets again with `ipxe-farm secret set NAME`.', 'ESECRETS');
}

/** The secrets of a farm; none when the file does not exist yet. */
export async function readSecrets(root: string): Promise<Secrets> {
  const file = farmLayout(root).secrets;
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyTable();
    throw new FarmError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, 'Run as the user that owns the farm.', 'ESECRETS');
  }
  return parseSecrets(text, file);
}

/** Mode bits of secrets.json that let others read it (0 when private or absent). */
export function secretsExposure(root: string): number {
  try {
    return fs.statSync(farmLayout(root).secrets).mode & 0o077;
  } catch {
    return 0;
  }
}

async function writeSecrets(root: string, secrets: Secrets): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(secrets).sort(([a], [b]) => a.localeCompare(b)));
  await writeFileAtomic(farmLayout(root).secrets, `${JSON.stringify({ version: SECRETS_VERSION, secrets: sorted }, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Store one secret. A value read from a terminal or `echo` ends with a newline that nobody meant as part of the secret:
 * one trailing newline is dropped; anything else that iPXE would read as a line break is refused here, not at boot.
 */
export async function setSecret(root: string, name: string, value: string): Promise<void> {
  checkName('secret', name);
  const v = value.replace(/\r?\n$/, '');
  if (v.length === 0) throw new FarmError(`The value for secret "${name}" is empty.`, 'Pipe the value on stdin, e.g. `printf %s "$VALUE" | ipxe-farm secret set NAME`.', 'EBADVALUE');
  if (/[\u0000-\u001f\u007f]/.test(v)) {
    throw new FarmError(`The value for secret "${name}" holds a line break or control character, which would start a new iPXE command.`, 'Store a value on one line without control characters.', 'EBADVALUE');
  }
  const secrets = await readSecrets(root);
  secrets[name] = v;
  await writeSecrets(root, secrets);
}

/** Remove a secret; false when it was not there. */
export async function removeSecret(root: string, name: string): Promise<boolean> {
  const secrets = await readSecrets(root);
  if (!hasOwnName(secrets, name)) return false;
  delete secrets[name];
  await writeSecrets(root, secrets);
  return true;
}

export async function listSecretNames(root: string): Promise<string[]> {
  return Object.keys(await readSecrets(root)).sort();
}
