/** Names of clients, profiles and secrets become file names, URL parts and certificate CNs: keep them boring. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const NAME_RULE = 'use 1–63 characters: lowercase letters, digits, dot, dash or underscore, starting with a letter or digit';

export type NameKind = 'client' | 'profile' | 'secret' | 'farm' | 'certificate';

/** What is wrong with `name` as a `kind` name, one sentence; undefined when it is fine (the editor's input boxes). */
export function nameProblem(kind: NameKind, name: string): string | undefined {
  return NAME_PATTERN.test(name) ? undefined : `The ${kind} name "${name}" is not allowed: ${NAME_RULE}.`;
}
