import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const src = path.join(repo, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports that are evaluated (an `import type` is erased and costs nothing at run time). */
function importSpecs(file: string, { withTypes = true } = {}): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(import|export)(\s+type)?\s*(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+)\s*from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    if (m[2] && !withTypes) continue;
    out.push((m[3] ?? m[4])!);
  }
  return out;
}

function resolve(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((c) => existsSync(c));
}

test('the CLI and the editor enter a core domain only through its barrel (index.ts, or light.ts for the editor\'s start-up)', () => {
  const bad: string[] = [];
  for (const f of [...sources(path.join(src, 'cli')), ...sources(path.join(src, 'vscode'))]) {
    for (const spec of importSpecs(f)) {
      if (!spec.startsWith('.')) continue;
      const rel = path.relative(src, path.resolve(path.dirname(f), spec)).split(path.sep);
      if (rel[0] !== 'core') continue;
      const ok = rel.length === 2 || (rel.length === 3 && rel[2] === 'light');
      if (!ok) bad.push(`${path.relative(repo, f)} imports ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('a light barrel reaches neither node-forge nor a child process, so the editor starts without them', () => {
  const lights = readdirSync(path.join(src, 'core')).map((d) => path.join(src, 'core', d, 'light.ts')).filter(existsSync);
  assert.ok(lights.length > 0, 'expected src/core/*/light.ts barrels');
  const bad: string[] = [];
  for (const light of lights) {
    const seen = new Set<string>();
    const walk = (f: string, trail: string[]) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const spec of importSpecs(f, { withTypes: false })) {
        if (spec === 'node-forge' || spec === 'execa' || spec === 'node:child_process') bad.push(`${[...trail, f].map((p) => path.relative(src, p)).join(' -> ')} imports ${spec}`);
        if (spec.startsWith('.')) { const r = resolve(f, spec); if (r) walk(r, [...trail, f]); }
      }
    };
    walk(light, []);
  }
  assert.deepEqual(bad, []);
});
