
/**
 * Profile templates: {{client.name}}, {{client.mac}}, {{client.vars.NAME}}, {{secret.NAME}}, {{server.http}}.
 * iPXE's own ${…} is left alone (it is template text, written by the farm's owner).
 */
export type Placeholder =
  | { kind: 'client.name' }
  | { kind: 'client.mac' }
  | { kind: 'client.vars'; name: string }
  | { kind: 'secret'; name: string }
  | { kind: 'server.http' };

export type TemplatePart = { text: string } | { ref: Placeholder; source: string };

/** A piece of a line: template text (trusted, written by the farm's owner) or a substituted value (checked). */
export interface Piece {
  text: string;
  /** Where the value came from, for messages ("secret.token", "client.vars.disk"); absent for template text. */
  value?: string;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function placeholder(expr: string): Placeholder {
  if (expr === 'client.name') return { kind: 'client.name' };
  if (expr === 'client.mac') return { kind: 'client.mac' };
  if (expr === 'server.http') return { kind: 'server.http' };
  let m = /^secret\.(.+)$/.exec(expr);
  if (m && NAME.test(m[1]!)) return { kind: 'secret', name: m[1]! };
  m = /^client\.vars\.(.+)$/.exec(expr);
  if (m && NAME.test(m[1]!)) return { kind: 'client.vars', name: m[1]! };
  throw new TemplateError(
    `Unknown placeholder {{${expr}}}: use {{client.name}}, {{client.mac}}, {{client.vars.NAME}}, {{secret.NAME}} or {{server.http}}.`,
  );
}

export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of template.matchAll(TOKEN)) {
    if (m.index! > last) parts.push({ text: template.slice(last, m.index) });
    parts.push({ ref: placeholder(m[1]!), source: m[1]! });
    last = m.index! + m[0].length;
  }
  if (last < template.length) parts.push({ text: template.slice(last) });
  const rest = parts.filter((p): p is { text: string } => 'text' in p).find((p) => p.text.includes('{{') || p.text.includes('}}'));
  if (rest) throw new TemplateError(`The template has an unclosed or malformed {{…}} placeholder near "${rest.text.slice(0, 40)}".`);
  return parts;
}

/** Every placeholder a template uses (for load-time checks: missing secrets, unknown variables). */
export function placeholdersOf(template: string): Placeholder[] {
  return parseTemplate(template).flatMap((p) => ('ref' in p ? [p.ref] : []));
}

/** Turn a parsed template into line pieces, each substituted value marked with where it came from. */
export function fillTemplate(parts: TemplatePart[], resolve: (p: Placeholder) => { text: string; trusted?: boolean }): Piece[] {
  return parts.map((p) => {
    if ('text' in p) return { text: p.text };
    const r = resolve(p.ref);
    // Trusted values are iPXE expressions we chose ourselves (e.g. ${mac} when a client has no MAC on file).
    return r.trusted ? { text: r.text } : { text: r.text, value: p.source };
  });
}
