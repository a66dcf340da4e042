import type { Secrets } from './store';

export const MASK = '••••••';
/** What a kept log (QEMU serial logs) shows in place of a secret: greppable, and plainly not a value. */
export const LOG_MASK = '«redacted»';

/** The values to mask, longest first so a secret containing another is masked whole. */
function maskOrder(values: Iterable<string>): string[] {
  return [...new Set(values)].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
}

/** Replace every one of `values` in a text. */
export function maskValues(text: string, values: Iterable<string>, mask = MASK): string {
  let out = text;
  for (const v of maskOrder(values)) out = out.split(v).join(mask);
  return out;
}

/** Replace every secret value in a text (longest first, so a secret containing another is masked whole). */
export function maskSecrets(text: string, secrets: Secrets): string {
  return maskValues(text, Object.values(secrets));
}

/**
 * Masks a stream that arrives in arbitrary chunks (a serial console): a secret split across two chunks is still masked,
 * because the end of a chunk that could be the start of a secret is held back until the next chunk decides.
 */
export class StreamMasker {
  private readonly values: string[];
  private held = '';

  constructor(values: Iterable<string>, private readonly mask = LOG_MASK) {
    this.values = maskOrder(values);
  }

  /** The part of the stream so far that is safe to show, masked. */
  push(chunk: string): string {
    if (!this.values.length) return chunk;
    const text = this.held + chunk;
    const cut = this.safeCut(text);
    this.held = text.slice(cut);
    return maskValues(text.slice(0, cut), this.values, this.mask);
  }

  /** The rest, at the end of the stream. */
  flush(): string {
    const rest = this.held;
    this.held = '';
    return maskValues(rest, this.values, this.mask);
  }

  /**
   * Where the text can be cut: before its longest end that could still become a secret, and never inside a secret that
   * is already whole (masking each side alone would then miss it).
   */
  private safeCut(text: string): number {
    let cut = text.length;
    for (const v of this.values) {
      // Only where the secret's first character stands, earliest (longest) candidate first.
      for (let p = text.indexOf(v[0]!, Math.max(0, text.length - v.length + 1)); p !== -1 && p < cut; p = text.indexOf(v[0]!, p + 1)) {
        if (v.startsWith(text.slice(p))) { cut = p; break; }
      }
    }
    for (let moved = true; moved;) {
      moved = false;
      for (const v of this.values) {
        for (let p = text.indexOf(v, Math.max(0, cut - v.length + 1)); p !== -1 && p < cut; p = text.indexOf(v, p + 1)) {
          if (p + v.length > cut) { cut = p; moved = true; break; }
        }
      }
    }
    return cut;
  }
}
