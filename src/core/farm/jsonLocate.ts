import { type Node, type ParseError, parse, parseTree, printParseErrorCode } from 'jsonc-parser';

/** Position of a JSON pointer in the text of a JSON file: where the editor puts a diagnostic for a farm-file issue. */
export interface TextPosition {
  line: number; // 0-based
  column: number; // 0-based
  length: number;
}

/** A parsed tree of the text to look pointers up in; parse once when locating many issues of one text. */
export type PointerTree = Node | undefined;

export function pointerTree(text: string): PointerTree {
  return parseTree(text, [], { disallowComments: true, allowTrailingComma: false });
}

function at(text: string, offset: number, length: number): TextPosition {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, column: offset - (before.lastIndexOf('\n') + 1), length: Math.max(1, length) };
}

const segments = (pointer: string): string[] =>
  pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

/** The child of an object (by key) or array (by index) in the parsed tree. */
function child(node: Node, seg: string): Node | undefined {
  if (node.type === 'object') return node.children?.find((p) => p.children?.[0]?.value === seg)?.children?.[1];
  if (node.type === 'array' && /^\d+$/.test(seg)) return node.children?.[Number(seg)];
  return undefined;
}

/**
 * The closest known position for a pointer: the pointer itself, else its nearest ancestor, else the top. An object's
 * member is placed on its key, so the underline lands on `"profile"` in `"profile": "x"`.
 */
export function positionOf(text: string, pointer: string, tree: PointerTree = pointerTree(text)): TextPosition {
  let node = tree;
  if (!node) return { line: 0, column: 0, length: 1 };
  for (const seg of segments(pointer)) {
    const next = child(node, seg);
    if (!next) break;
    node = next;
  }
  const key = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
  return key ? at(text, key.offset, key.length) : at(text, node.offset, node.length);
}

/** Line/column and wording of the first syntax error in JSON text, or undefined when it parses as strict JSON. */
export function syntaxError(text: string): { at: TextPosition; message: string } | undefined {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const e = errors[0];
  if (!e) return undefined;
  return { at: at(text, e.offset, e.length), message: printParseErrorCode(e.error) };
}
