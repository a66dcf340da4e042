/**
 * Rules for a profile's secret files (the `secretFiles` list), used by the farm schema (schema/profile.ts) when the
 * farm is loaded, so a bad path is underlined where it was written, not discovered when a board boots.
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
