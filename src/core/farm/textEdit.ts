import { findNodeAtLocation, type Node, parseTree } from 'jsonc-parser';

type Json = unknown;
type Path = (string | number)[];
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: Json, b: Json) => JSON.stringify(a) === JSON.stringify(b);

/** One value on one line, spaced the way people write it by hand: `{ "a": 1, "b": ["x", "y"] }`. */
function inline(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  if (isObj(v)) {
    const members = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`);
    return members.length ? `{ ${members.join(', ')} }` : '{}';
  }
  return JSON.stringify(v);
}

class Editor {
  readonly unit: string;
  readonly eol: string;

  constructor(public text: string) {
    this.unit = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
    this.eol = text.includes('\r\n') ? '\r\n' : '\n';
  }

  private splice(from: number, to: number, content: string): void {
    this.text = this.text.slice(0, from) + content + this.text.slice(to);
  }

  private node(path: Path): Node | undefined {
    return findNodeAtLocation(parseTree(this.text)!, path);
  }

  private spansLines(n: Node): boolean {
    return this.text.slice(n.offset, n.offset + n.length).includes('\n');
  }

  private indentOf(offset: number): string {
    const start = this.text.lastIndexOf('\n', offset - 1) + 1;
    return /^[ \t]*/.exec(this.text.slice(start))![0];
  }

  /** Many lines at `indent` when the value's place is written that way, else one line. */
  private render(v: Json, indent: string, multiline: boolean): string {
    if (!multiline || !(isObj(v) || Array.isArray(v))) return inline(v);
    return JSON.stringify(v, null, this.unit).split('\n').join(`${this.eol}${indent}`);
  }

  replace(path: Path, v: Json): void {
    const n = this.node(path)!;
    const owner = n.parent?.type === 'property' ? n.parent : n;
    this.splice(n.offset, n.offset + n.length, this.render(v, this.indentOf(owner.offset), this.spansLines(n)));
  }

  insert(path: Path, key: string, v: Json): void {
    const obj = this.node(path)!;
    const members = obj.children ?? [];
    const last = members[members.length - 1];
    const entry = (indent: string, multiline: boolean) => `${JSON.stringify(key)}: ${this.render(v, indent, multiline)}`;
    if (last) {
      if (this.spansLines(obj)) {
        const indent = this.indentOf(last.offset);
        this.splice(last.offset + last.length, last.offset + last.length, `,${this.eol}${indent}${entry(indent, true)}`);
      } else {
        this.splice(last.offset + last.length, last.offset + last.length, `, ${entry('', false)}`);
      }
      return;
    }
    // An empty object: many lines when its owner's container is written on many lines.
    const container = obj.parent?.parent ?? obj.parent;
    if (container && this.spansLines(container)) {
      const outer = this.indentOf(obj.offset);
      const indent = outer + this.unit;
      this.splice(obj.offset, obj.offset + obj.length, `{${this.eol}${indent}${entry(indent, true)}${this.eol}${outer}}`);
    } else {
      this.splice(obj.offset, obj.offset + obj.length, `{ ${entry('', false)} }`);
    }
  }

  remove(path: Path, key: string): void {
    const obj = this.node(path)!;
    const members = obj.children ?? [];
    const i = members.findIndex((p) => p.children?.[0]?.value === key);
    const p = members[i]!;
    const prev = members[i - 1];
    const next = members[i + 1];
    if (prev) this.splice(prev.offset + prev.length, p.offset + p.length, '');
    else if (next) this.splice(p.offset, next.offset, '');
    else this.splice(obj.offset + 1, obj.offset + obj.length - 1, '');
  }
}

/**
 * The farm file's text after a change, edited in place: only the members whose value changed are rewritten, so the
 * user's layout, key order and line breaks elsewhere stay as they were (a whole re-serialisation would reformat it).
 * New members take the indentation (or the one-line style) of their neighbours.
 */
export function editJsonText(text: string, before: Json, after: Json): string {
  const ed = new Editor(text);
  const walk = (path: Path, a: Json, b: Json): void => {
    if (isObj(a) && isObj(b)) {
      for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) ed.remove(path, k);
      for (const k of Object.keys(b)) {
        if (!Object.hasOwn(a, k)) ed.insert(path, k, b[k]);
        else walk([...path, k], a[k], b[k]);
      }
      return;
    }
    if (!same(a, b)) ed.replace(path, b);
  };
  walk([], before, after);
  return ed.text.endsWith('\n') ? ed.text : `${ed.text}${ed.eol}`;
}
