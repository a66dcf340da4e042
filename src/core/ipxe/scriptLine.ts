/**
 * Safety of one generated iPXE script line, following iPXE v2.0.0's own parser:
 * - image/script.c: a script is split at '\n', one trailing '\r' is dropped, and a line ending in '\' continues on the
 *   next one; a line whose first word starts with ':' is a label.
 * - core/exec.c: a line is split into words at whitespace — there is NO quoting at all —, and a word that is exactly
 *   "||", "&&" or ";" ends the command, a word starting with "#" ends the line.
 * - core/settings.c: after splitting, every "${name}" in a word is replaced by the setting, repeatedly, until none is
 *   left: there is no way to write a literal "${…}".
 * So a substituted value can only be made safe by refusing what it could do: control characters (new line, new
 * command), words that are terminators or comments, a trailing backslash, taking part in a "${…}" expansion, choosing
 * the command word, or — where the context is one word, such as a URL — whitespace.
 */

import type { Piece } from '../farm/light';

export type { Piece };

export type LineContext =
  /** A kernel command line after the image: values may hold single spaces and are double-quoted for Linux. */
  | 'cmdline'
  /** Any other iPXE line (URLs, extra lines): each value must stay inside one word. */
  | 'words';

export class UnsafeValueError extends Error {
  constructor(readonly source: string | undefined, message: string) {
    super(message);
    this.name = 'UnsafeValueError';
  }
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const IPXE_SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);
const TERMINATORS = new Set(['||', '&&', ';']);

function describe(source: string | undefined): string {
  return source ? `The value of {{${source}}}` : 'The template';
}

/**
 * Double-quote values with spaces for Linux (which reads `key="a b"` as one argument) unless the template already put
 * them inside quotes. A double quote inside a cmdline value has no escape in Linux and is refused.
 */
function quoteForCmdline(pieces: Piece[]): Piece[] {
  let inQuotes = false;
  const out: Piece[] = [];
  for (const p of pieces) {
    if (p.value === undefined) {
      for (const ch of p.text) if (ch === '"') inQuotes = !inQuotes;
      out.push(p);
      continue;
    }
    if (p.text.includes('"')) {
      throw new UnsafeValueError(p.value, `${describe(p.value)} holds a double quote, which Linux cannot take inside a kernel command line argument.`);
    }
    if (/ {2}/.test(p.text)) {
      throw new UnsafeValueError(p.value, `${describe(p.value)} holds several spaces in a row, which iPXE would squeeze into one.`);
    }
    out.push(!inQuotes && p.text.includes(' ') ? { ...p, text: `"${p.text}"` } : p);
  }
  return out;
}

/** Join the pieces into one line, or throw UnsafeValueError saying which value could change the script's meaning. */
export function safeLine(pieces: Piece[], context: LineContext): string {
  for (const p of pieces) {
    if (CONTROL.test(p.text)) {
      throw new UnsafeValueError(p.value, `${describe(p.value)} holds a line break or control character, which would let it start another iPXE command.`);
    }
  }
  const parts = context === 'cmdline' ? quoteForCmdline(pieces) : pieces;
  let text = '';
  const owner: (string | undefined)[] = [];
  for (const p of parts) {
    text += p.text;
    for (let i = 0; i < p.text.length; i++) owner.push(p.value);
  }
  const valueAt = (i: number) => owner[i];

  if (text.endsWith('\\')) {
    throw new UnsafeValueError(valueAt(text.length - 1), `${describe(valueAt(text.length - 1))} ends the line with a backslash, which iPXE reads as "continue on the next line".`);
  }

  // Words, exactly as core/exec.c split_command finds them.
  let word = 0;
  for (let i = 0; i < text.length;) {
    while (i < text.length && IPXE_SPACE.has(text[i]!)) i++;
    if (i >= text.length) break;
    const start = i;
    while (i < text.length && !IPXE_SPACE.has(text[i]!)) i++;
    const w = text.slice(start, i);
    const src = owner.slice(start, i).find((o) => o !== undefined);
    const fromValue = owner.slice(start, i).some((o) => o !== undefined);
    if (fromValue) {
      if (word === 0) throw new UnsafeValueError(src, `${describe(src)} would choose the iPXE command itself.`);
      if (TERMINATORS.has(w)) throw new UnsafeValueError(src, `${describe(src)} holds "${w}", which iPXE reads as the end of a command.`);
      if (w.startsWith('#')) throw new UnsafeValueError(src, `${describe(src)} puts "#" at the start of a word, which iPXE reads as a comment.`);
    } else if (context === 'cmdline' && (TERMINATORS.has(w) || w.startsWith('#'))) {
      // The profile's own text is placed into the script too: a "||" there would end the kernel command (fuzz-found).
      throw new UnsafeValueError(undefined, `The command line holds the word "${w}", which iPXE reads as ${w.startsWith('#') ? 'a comment' : 'the end of a command'}: it cannot reach Linux.`);
    }
    word++;
  }
  if (context === 'words') {
    for (const p of parts) {
      if (p.value !== undefined && /[\s]/.test(p.text)) {
        throw new UnsafeValueError(p.value, `${describe(p.value)} holds a space, which would add another argument to the iPXE command.`);
      }
    }
  }

  // "${": iPXE expands it wherever it appears; a value may neither open one nor fall inside one.
  for (let i = 0; i + 1 < text.length; i++) {
    if (text[i] !== '$' || text[i + 1] !== '{') continue;
    const close = text.indexOf('}', i + 2);
    const end = close < 0 ? i + 1 : close;
    for (let j = i; j <= end; j++) {
      if (owner[j] !== undefined) {
        throw new UnsafeValueError(owner[j], `${describe(owner[j])} would take part in an iPXE "\${…}" expansion (iPXE has no way to write a literal "\${").`);
      }
    }
  }
  return text;
}

/** A text we write ourselves into `echo` (reasons for a refusal): keep only characters that cannot mean anything. */
export function echoText(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\$\{/g, '$ {')
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .map((w) => (TERMINATORS.has(w) ? `'${w}'` : w.startsWith('#') ? `no.${w.slice(1)}` : w))
    .join(' ')
    .replace(/\\$/, '');
}

/** Whether a fixed text (written into a config, not computed) goes into `echo` unchanged, i.e. needs no cleaning. */
export function isEchoSafe(text: string): boolean {
  return text.length > 0 && echoText(text) === text;
}
