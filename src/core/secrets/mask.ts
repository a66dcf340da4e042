import type { Secrets } from './store';

export const MASK = '••••••';

/** Replace every secret value in a text (longest first, so a secret containing another is masked whole). */
export function maskSecrets(text: string, secrets: Secrets): string {
  const values = [...new Set(Object.values(secrets))].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of values) out = out.split(v).join(MASK);
  return out;
}
