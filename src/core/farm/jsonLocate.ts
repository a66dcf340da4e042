/** Position of a JSON pointer in the text of a JSON file: where the editor puts a diagnostic for a farm-file issue. */
export interface TextPosition {
  line: number; // 0-based
  column: number; // 0-based
  length: number;
}

/**
 * Scan JSON text once and record where each value (by JSON pointer) begins; a key's position is used for objects'
 * members so the underline lands on `"profile"` in `"profile": "x"`. Tolerates nothing: on malformed text it stops and
 * returns what it found so far.
 */
export function locatePointers(text: string): Map<string, TextPosition> {
  const out = new Map<string, TextPosition>();
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i]!)) i++; };
  const pos = (start: number, end: number): TextPosition => {
    let line = 0, lastNl = -1;
    for (let k = 0; k < start; k++) if (text.charCodeAt(k) === 10) { line++; lastNl = k; }
    return { line, column: start - lastNl - 1, length: Math.max(1, end - start) };
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const esc = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
  const value = (ptr: string, keyStart?: number, keyEnd?: number): void => {
    ws();
    const start = i;
    if (!out.has(ptr)) out.set(ptr, keyStart !== undefined ? pos(keyStart, keyEnd!) : pos(start, start + 1));
    const ch = text[i];
    if (ch === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new Error('key');
        const ks = i;
        const k = str();
        const ke = i;
        ws();
        if (text[i] !== ':') throw new Error(':');
        i++;
        value(`${ptr}/${esc(k)}`, ks, ke);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        throw new Error('}');
      }
    } else if (ch === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (let n = 0; ; n++) {
        value(`${ptr}/${n}`);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        throw new Error(']');
      }
    } else if (ch === '"') {
      str();
      if (keyStart === undefined) out.set(ptr, pos(start, i));
    } else {
      while (i < text.length && /[-+0-9.eEtruefalsn]/.test(text[i]!)) i++;
      if (i === start) throw new Error('value');
    }
  };
  try { value(''); } catch { /* partial map is still useful */ }
  return out;
}

/** The closest known position for a pointer: the pointer itself, else its nearest ancestor, else the top. */
export function positionOf(text: string, pointer: string, map = locatePointers(text)): TextPosition {
  let p = pointer;
  for (;;) {
    const hit = map.get(p);
    if (hit) return hit;
    if (p === '') return { line: 0, column: 0, length: 1 };
    p = p.slice(0, p.lastIndexOf('/'));
  }
}

/** Line/column of a JSON.parse failure, from V8's "at position N" or "(line L column C)" messages. */
export function parseErrorPosition(text: string, err: Error): TextPosition {
  const lc = /line (\d+) column (\d+)/.exec(err.message);
  if (lc) return { line: Number(lc[1]) - 1, column: Number(lc[2]) - 1, length: 1 };
  const m = /position (\d+)/.exec(err.message);
  const at = m ? Number(m[1]) : 0;
  const before = text.slice(0, at);
  const line = before.split('\n').length - 1;
  return { line, column: at - (before.lastIndexOf('\n') + 1), length: 1 };
}
