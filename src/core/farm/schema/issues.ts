import type { z } from 'zod';
import type { FarmIssue } from '../issue';
import { AT, KEY, NOTE_KEY } from './fields';

/** A zod path as the JSON pointer the editor and load.ts place text positions by (RFC 6901 escaping). */
export function pointerOf(path: readonly PropertyKey[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * The sentence for a rule that carries none of its own (fields.ts gives most rules theirs): zod's wording is for
 * developers, a farm file's owner reads these.
 */
export function plainSentence(iss: z.core.$ZodRawIssue): string {
  switch (iss.code) {
    case 'invalid_type': {
      const what: Record<string, string> = { object: 'an object', array: 'a list', string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false' };
      return `${AT} must be ${what[iss.expected] ?? `a ${iss.expected}`}.`;
    }
    case 'invalid_value': return `${AT} must be ${iss.values.map((v) => JSON.stringify(v)).join(' or ')}.`;
    case 'unrecognized_keys': return `${AT}/${KEY} is not a setting here.`;
    case 'invalid_format': return `${AT} ${JSON.stringify(iss.input)} is not in the expected form.`;
    default: return `${AT} is not a valid value here.`;
  }
}

/**
 * zod's issues as FarmIssues: `%at` becomes the setting's pointer, an unknown-keys issue one issue per key at that key,
 * and a note key (`// why`, `_old`) is never an unknown key.
 */
export function farmIssues(issues: readonly z.core.$ZodIssue[]): FarmIssue[] {
  const out: FarmIssue[] = [];
  for (const iss of issues) {
    const at = pointerOf(iss.path);
    // Only our own text is filled in: a leading %at, and %key in an unknown-key sentence (which quotes no value), so a
    // value that happens to contain either (or a `$&`) is never rewritten.
    const fill = (p: string, key?: string) => {
      const m = iss.message.startsWith(AT) ? `${p || 'The farm file'}${iss.message.slice(AT.length)}` : iss.message;
      return key === undefined ? m : m.split(KEY).join(key);
    };
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys.filter((k) => !NOTE_KEY.test(k))) out.push({ pointer: `${at}${pointerOf([k])}`, severity: 'error', message: fill(at, k) });
    } else {
      out.push({ pointer: at, severity: 'error', message: fill(at) });
    }
  }
  return out;
}
