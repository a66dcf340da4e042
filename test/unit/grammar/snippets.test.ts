import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repo, tokenize } from './support';

interface Snippet { prefix: string[] | string; body: string[]; description: string }

/**
 * Expand a VS Code snippet body the way accepting it with the defaults does: `\$` is a literal dollar, `${1:x}` is x,
 * `$1`/`${1}` repeat an earlier default, an unknown `${name}` would be a snippet *variable* (that is the bug to catch).
 */
function expand(body: string): { text: string; unknownVariables: string[] } {
  const defaults = new Map<string, string>();
  const unknown: string[] = [];
  let i = 0;
  const parse = (stopAtBrace: boolean): string => {
    let out = '';
    while (i < body.length) {
      const ch = body[i]!;
      if (ch === '\\' && (body[i + 1] === '$' || body[i + 1] === '}' || body[i + 1] === '\\')) { out += body[i + 1]; i += 2; continue; }
      if (stopAtBrace && ch === '}') { i++; return out; }
      if (ch === '$') {
        const simple = /^\$(\d+)/.exec(body.slice(i));
        if (simple) { out += defaults.get(simple[1]!) ?? ''; i += simple[0].length; continue; }
        const open = /^\$\{(\d+|[A-Za-z_]+)(:?)/.exec(body.slice(i));
        if (open) {
          i += open[0].length;
          const name = open[1]!;
          const inner = open[2] ? parse(true) : (i++, '');
          if (/^\d+$/.test(name)) {
            if (open[2]) defaults.set(name, inner);
            out += open[2] ? inner : defaults.get(name) ?? '';
          } else { unknown.push(name); out += inner; }
          continue;
        }
      }
      out += ch;
      i++;
    }
    return out;
  };
  return { text: parse(false), unknownVariables: unknown };
}

const snippets = JSON.parse(readFileSync(path.join(repo, 'snippets', 'ipxe.json'), 'utf8')) as Record<string, Snippet>;

test('the snippet file covers what board-farm scripts need', () => {
  const prefixes = Object.values(snippets).flatMap((s) => (Array.isArray(s.prefix) ? s.prefix : [s.prefix]));
  for (const p of ['bootstrap', 'kernel', 'imgverify', 'menu', 'retry', 'params', 'failed']) assert.ok(prefixes.includes(p), `a snippet with prefix ${p}`);
  const bootstrap = expand(snippets['Secure chain bootstrap']!.body.join('\n')).text;
  for (const s of ['${mac}', '${serial:uristring}', '${uuid}', '${buildarch}', 'ntp ', 'chain --autofree https://', 'dhcp']) {
    assert.ok(bootstrap.includes(s), `the bootstrap has ${s}`);
  }
  assert.ok(expand(snippets['Verified boot (imgtrust + imgverify)']!.body.join('\n')).text.includes('imgtrust --permanent'));
});

for (const [name, s] of Object.entries(snippets)) {
  test(`snippet "${name}" expands to iPXE where every line is a command, a label or a comment`, async () => {
    const { text, unknownVariables } = expand(s.body.join('\n'));
    assert.deepEqual(unknownVariables, [], 'iPXE settings in a snippet must be written \\${name}, or VS Code treats them as snippet variables');
    const KNOWN = new Set(['mac', 'serial', 'uuid', 'buildarch', 'next-server', 'errno', 'target', 'attempts', 'tries']);
    for (const m of text.matchAll(/\$\{([^}:]*)/g)) assert.ok(KNOWN.has(m[1]!), `"${name}" expands to the setting \${${m[1]}}: a } inside a placeholder must be written \\}`);
    const lines = await tokenize(text);
    const labels = new Set<string>();
    const gotos: string[] = [];
    lines.forEach((tokens, n) => {
      const src = tokens.map((t) => t.text).join('');
      if (src.trim() === '') return;
      const first = tokens.find((t) => t.text.trim() !== '')!;
      const ok = ['support.function.builtin.ipxe', 'keyword.control', 'entity.name.label.ipxe', 'comment.line', 'punctuation.definition.label.ipxe']
        .some((scope) => first.scopes.some((x) => x.startsWith(scope)));
      assert.ok(ok, `line ${n + 1} of "${name}" does not start with an iPXE command: ${src}`);
      for (const t of tokens) {
        if (t.scopes.includes('entity.name.label.ipxe')) labels.add(t.text);
        if (t.scopes.includes('entity.name.label.reference.ipxe')) gotos.push(t.text);
      }
    });
    // Labels defined elsewhere in a longer script are fine for fragments; a snippet that defines labels must be closed.
    if (labels.size > 0) for (const g of gotos) assert.ok(labels.has(g) || g === 'failed', `goto ${g} has no :${g} in "${name}"`);
  });
}
