import * as z from 'zod';
import { emptyTable, type Table } from '../table';

/**
 * Building blocks of the farm-file schema. Every rule carries the sentence a person reads when it is broken; a leading
 * `%at` stands for the setting's JSON pointer (filled in by issues.ts, which knows the path), `%key` for an unknown key.
 */
export const AT = '%at';
export const KEY = '%key';

/** zod's `error` parameter: always this sentence. */
export const say = (sentence: string) => ({ error: () => sentence });
/** zod's `error` parameter: one sentence when the key is absent, another when its value is wrong. */
export const sayMissing = (missing: string, wrong: string) => ({ error: (iss: { input?: unknown }) => (iss.input === undefined ? missing : wrong) });

export const nonEmpty = (sentence = `${AT} must be a non-empty string.`) => z.string(say(sentence)).min(1, say(sentence));
export const text = () => z.string(say(`${AT} must be a string.`));
export const flag = () => z.boolean(say(`${AT} must be true or false.`));
export const strs = () => z.array(text(), say(`${AT} must be a list of strings.`));

/** A whole number in [min, max]; `missing` is the sentence for an absent required one. */
export function whole(min: number, max: number, missing?: string) {
  const sentence = `${AT} must be a whole number from ${min} to ${max}.`;
  return z.int(missing ? sayMissing(missing, sentence) : say(sentence)).min(min, say(sentence)).max(max, say(sentence));
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, say(`${AT} must be one of ${values.map((v) => `"${v}"`).join(', ')}.`));
}

/** Note keys (`// why`, `_old`) a person may put anywhere the schema allows them; iPXE Farm keeps and ignores them. */
export const NOTE_KEY = /^(\/\/|_)/;
export const NOTES = { '^(//|_)': { description: 'A note: iPXE Farm keeps keys starting with // or _ and ignores them.' } };

/**
 * A name-keyed table. Keys are any string here so that an entry with a bad name is still read and checked (its name is
 * reported by the cross checks, its MACs still count); the result has no prototype (table.ts says why).
 * `keyProblem` rejects a key outright (the entry is then left out).
 */
export function table<V extends z.ZodType>(value: V, propertyNames?: object, keyProblem?: (key: string) => string | undefined) {
  let rec = z.record(z.string(), value, say(`${AT} must be an object.`));
  if (keyProblem) {
    rec = rec.superRefine((r, ctx) => {
      for (const k of Object.keys(r)) {
        const problem = keyProblem(k);
        if (problem) ctx.addIssue({ code: 'custom', path: [k], message: problem, input: k });
      }
    }, { when: (p) => typeof p.value === 'object' && p.value !== null && !Array.isArray(p.value) });
  }
  return (propertyNames ? rec.meta({ propertyNames }) : rec).transform((r) => Object.assign(emptyTable<z.output<V>>(), r) as Table<z.output<V>>);
}
