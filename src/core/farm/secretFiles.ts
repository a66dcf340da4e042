import type { FarmIssue } from './issue';
import { SECRET_TTL_DEFAULT, SecretFile } from './model';

/**
 * Rules for a profile's secret files (the `secretFiles` list) and the farm's `boot.secretTtl`, checked when the farm
 * is loaded so a bad path is underlined where it was written, not discovered when a board boots.
 *
 * The path goes into an iPXE `initrd URL PATH mode=NNN` line and becomes a cpio name (iPXE v2.0.0 core/cpio.c): the
 * name ends at the first space, and iPXE expands `${…}` anywhere in a line, so only plain path characters are allowed.
 */
const SEGMENT = /^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*$/;
export const SECRET_PATH_MAX = 200;
const MODE = /^0?[0-7]{3}$/;
export const SECRET_MODE_DEFAULT = '0600';

/** Why `p` cannot be a secret file's path, or undefined when it can. */
export function secretPathProblem(p: string): string | undefined {
  if (!p.startsWith('/')) return 'is not absolute: start it with /, e.g. /run/secrets/minio.env';
  if (p.length > SECRET_PATH_MAX) return `is longer than ${SECRET_PATH_MAX} characters`;
  const segments = p.slice(1).split('/');
  if (segments.some((s) => s === '..' || s === '.')) return 'holds a "." or ".." part: name the file by its plain absolute path';
  if (segments.some((s) => s === '')) return 'ends with / or holds "//": name a file, once';
  if (!segments.every((s) => SEGMENT.test(s))) return 'holds a character other than letters, digits, ".", "_", "-", "+", "@" and "/" (iPXE ends the name at a space and expands ${…})';
  return undefined;
}

/** The mode as a number (0o600 for "0600"), or undefined when it is not 3 octal digits. */
export function parseSecretMode(mode: string | undefined): number | undefined {
  const m = mode ?? SECRET_MODE_DEFAULT;
  return MODE.test(m) ? parseInt(m, 8) : undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The list under `pointer` (e.g. /profiles/b2c/secretFiles), with every problem at its own JSON pointer. */
export function validateSecretFiles(raw: unknown, pointer: string): { files: SecretFile[]; issues: FarmIssue[] } {
  const issues: FarmIssue[] = [];
  const error = (p: string, message: string) => issues.push({ pointer: p, message, severity: 'error' });
  if (!Array.isArray(raw)) {
    error(pointer, `${pointer} must be a list of {"path", "content", "mode"} objects.`);
    return { files: [], issues };
  }
  const files: SecretFile[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item, i) => {
    const p = `${pointer}/${i}`;
    if (!isObj(item)) { error(p, `${p} must be an object with "path" and "content".`); return; }
    for (const k of Object.keys(item)) {
      if (!['path', 'content', 'mode'].includes(k) && !/^(\/\/|_)/.test(k)) error(`${p}/${k}`, `${p} has an unknown key "${k}": use "path", "content" and "mode".`);
    }
    const path = item.path;
    if (typeof path !== 'string' || path.length === 0) error(`${p}/path`, `${p}/path must be a non-empty string (an absolute path such as /run/secrets/minio.env).`);
    else {
      const problem = secretPathProblem(path);
      if (problem) error(`${p}/path`, `The secret file path "${path}" ${problem}.`);
      const twice = seen.get(path);
      if (twice !== undefined) error(`${p}/path`, `The secret file path "${path}" is already used by ${pointer}/${twice}; give each file its own path.`);
      seen.set(path, i);
    }
    const content = item.content;
    if (typeof content !== 'string') error(`${p}/content`, `${p}/content must be a string (the file's contents; {{secret.NAME}} places a secret).`);
    const mode = item.mode;
    if (mode !== undefined && (typeof mode !== 'string' || parseSecretMode(mode) === undefined)) {
      error(`${p}/mode`, `${p}/mode must be three octal digits as a string, such as "0600" or "0640".`);
    } else if (parseSecretMode(mode as string | undefined)! & 0o007) {
      issues.push({ pointer: `${p}/mode`, severity: 'warning', message: `Mode ${String(mode)} lets every user of the booted machine read this secret file; "0600" keeps it to root.` });
    }
    if (typeof path === 'string' && typeof content === 'string') files.push(mode === undefined ? { path, content } : { path, content, mode: mode as string });
  });
  return { files, issues };
}

/** `boot.secretTtl` in seconds: 1 to 3600, default 60. */
export function validateSecretTtl(raw: unknown, pointer: string): { ttl: number; issues: FarmIssue[] } {
  if (raw === undefined) return { ttl: SECRET_TTL_DEFAULT, issues: [] };
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 && raw <= 3600) return { ttl: raw, issues: [] };
  return { ttl: SECRET_TTL_DEFAULT, issues: [{ pointer, severity: 'error', message: `${pointer} must be a whole number of seconds from 1 to 3600.` }] };
}
