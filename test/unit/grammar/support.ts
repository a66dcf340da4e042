import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

/** The repository root, from the bundled test under out/test/unit/grammar/. */
export const repo = path.resolve(__dirname, '..', '..', '..', '..');

export interface Token {
  text: string;
  scopes: string[];
}

let registry: Promise<textmate.IGrammar> | undefined;

/** The iPXE grammar loaded the way VS Code loads it: vscode-textmate over the Oniguruma WASM. */
export function ipxeGrammar(): Promise<textmate.IGrammar> {
  registry ??= (async () => {
    const wasm = readFileSync(path.join(repo, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
    const reg = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (sources: string[]) => new oniguruma.OnigScanner(sources),
        createOnigString: (s: string) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scope) => {
        if (scope !== 'source.ipxe') return null;
        const file = path.join(repo, 'syntaxes', 'ipxe.tmLanguage.json');
        return textmate.parseRawGrammar(readFileSync(file, 'utf8'), file);
      },
    });
    const g = await reg.loadGrammar('source.ipxe');
    if (!g) throw new Error('source.ipxe did not load');
    return g;
  })();
  return registry;
}

/** Tokenize a whole script, line by line, carrying the rule stack like the editor does. */
export async function tokenize(script: string): Promise<Token[][]> {
  const g = await ipxeGrammar();
  let stack = textmate.INITIAL;
  return script.split('\n').map((line) => {
    const r = g.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

/** The scopes of the first token whose text is exactly `text` (trimmed) on that line. */
export function scopesOf(line: Token[], text: string): string[] {
  const t = line.find((x) => x.text.trim() === text);
  if (!t) throw new Error(`no token "${text}" in: ${JSON.stringify(line.map((x) => x.text))}`);
  return t.scopes;
}
