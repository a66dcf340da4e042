import { UsageError } from '../errors';
import type { Client, Farm } from './model';
import { nameProblem, type NameKind } from './names';

export { nameProblem, type NameKind };

/**
 * Rules derived from the farm model, decided here once and asked everywhere: which profile a client boots, and whether
 * a name may name a thing (names become file names, URL parts, certificate CNs and iPXE script words).
 */

/** The profile a client boots: its own, else the farm's default; undefined when neither is set. */
export function profileOf(farm: Pick<Farm, 'defaultProfile'>, client: Pick<Client, 'profile'> | undefined): string | undefined {
  return client?.profile ?? farm.defaultProfile;
}

const FIX: Record<NameKind, string> = {
  client: 'Choose another client name (it becomes the certificate CN, file names and URL parts).',
  profile: 'Choose another profile name.',
  secret: 'Choose another secret name.',
  farm: 'Pass --name NAME.',
  certificate: 'Pass --name NAME.',
};

/** Refuse a bad name the same way from every command: a usage error (the CLI exits 2), one sentence per kind. */
export function checkName(kind: NameKind, name: string): void {
  const problem = nameProblem(kind, name);
  if (problem) throw new UsageError(problem, FIX[kind]);
}
