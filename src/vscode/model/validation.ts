import { nameProblem, type NameKind } from '../../core/farm';
import { normaliseMac } from '../../core/farm';

/**
 * Input-box validators: undefined means fine, a string is shown under the box as the user types. Pure, so the same
 * rules are unit-tested in plain Node.
 */
export function checkName(what: NameKind, taken: readonly string[] = []): (v: string) => string | undefined {
  return (v) => {
    if (!v) return `Type a ${what} name.`;
    const problem = nameProblem(what, v);
    if (problem) return problem;
    if (taken.includes(v)) return `There is already a ${what} called "${v}".`;
    return undefined;
  };
}

export function checkMacs(v: string): string | undefined {
  const parts = v.split(/[\s,]+/).filter(Boolean);
  for (const p of parts) if (!normaliseMac(p)) return `"${p}" is not a MAC address: write it as 52:54:00:12:34:56.`;
  return undefined;
}

export function parseMacs(v: string): string[] {
  return v.split(/[\s,]+/).filter(Boolean).map((p) => normaliseMac(p)!).filter(Boolean);
}

export function checkDays(max: number): (v: string) => string | undefined {
  return (v) => {
    if (v === '') return undefined; // empty: the farm file's default
    if (!/^\d+$/.test(v)) return 'Type a whole number of days (or leave it empty for the farm default).';
    const n = Number(v);
    if (n < 1 || n > max) return `Type a number of days from 1 to ${max}.`;
    return undefined;
  };
}

/** An iPXE error code as iPXE prints it (8 hex digits, optionally with 0x or inside a URL like ipxe.org/err/…). */
export function checkErrorCode(v: string): string | undefined {
  return /^(?:0x)?[0-9a-f]{8}$/i.test(v.trim()) || /err\/[0-9a-f]{8}/i.test(v) ? undefined : 'Type the 8 hex digits iPXE printed, e.g. 0216eb3c.';
}

export function checkSecretValue(v: string): string | undefined {
  if (v.length === 0) return 'Type the secret value (it is not shown and not logged).';
  // The value ends up on a kernel command line in an iPXE script: a newline would start a new iPXE command.
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'A secret cannot contain control characters or newlines (it goes into an iPXE script line).';
  return undefined;
}
