import { MASK, maskSecrets } from '../secrets/mask';
import type { Secrets } from '../secrets/store';

/**
 * Masks secrets in a live stream, where a secret can arrive split across two chunks: the tail that could be the start
 * of a secret is held back until the next chunk (or flush) decides. Uses the project's one masking (secrets/mask.ts).
 */
export class StreamRedactor {
  private held = '';
  private readonly values: string[];
  constructor(private readonly secrets: Secrets) {
    this.values = [...new Set(Object.values(secrets))].filter((v) => v.length > 0);
  }

  push(chunk: string): string {
    const text = this.held + chunk;
    const masked = maskSecrets(text, this.secrets);
    const keep = this.partialTail(masked);
    this.held = masked.slice(masked.length - keep);
    return masked.slice(0, masked.length - keep);
  }

  flush(): string {
    const out = this.held;
    this.held = '';
    return out;
  }

  /** Length of the longest end of `s` that starts some secret (and is not already a mask). */
  private partialTail(s: string): number {
    let best = 0;
    for (const v of this.values) {
      for (let n = Math.min(v.length - 1, s.length); n > best; n--) {
        if (s.endsWith(v.slice(0, n)) && !s.endsWith(MASK)) { best = n; break; }
      }
    }
    return best;
  }
}
