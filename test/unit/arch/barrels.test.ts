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
function importSpecs(file: string, { withTypes = true, dynamic = true } = {}): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(import|export)(\s+type)?\s*(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+)\s*from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    if ((m[2] && !withTypes) || (m[4] && !dynamic)) continue;
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

test('inside src/core a domain enters another only through its barrel (index.ts or light.ts); files directly in src/core are a shared base', () => {
  // A domain is a direct subfolder of src/core. errors.ts (and any other file directly in src/core) is a leaf every
  // domain may import by path: it is its own one-file face. Imports inside one domain stay by path.
  const core = path.join(src, 'core');
  const bad: string[] = [];
  for (const f of sources(core)) {
    const from = path.relative(core, f).split(path.sep);
    for (const spec of importSpecs(f)) {
      if (!spec.startsWith('.')) continue;
      const to = path.relative(core, path.resolve(path.dirname(f), spec)).split(path.sep);
      // the base sits below every domain: it imports none
      if (from.length === 1) { if (to[0] !== '..' && to.length > 1) bad.push(`${path.relative(repo, f)} imports ${spec}`); continue; }
      // to: ['pki'] is the barrel folder, ['errors'] a base file; ['pki', 'light'] the light barrel
      if (to[0] === '..' || to[0] === from[0] || to.length === 1) continue;
      if (!(to.length === 2 && (to[1] === 'light' || to[1] === 'index'))) bad.push(`${path.relative(repo, f)} imports ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

/**
 * Where evaluating `start` (its imports that are not `import type`, followed through relative paths) imports a package
 * of `banned`. With `dynamic: false`, an `import()` is not followed: the bundle evaluates its module only when it runs.
 */
function evaluatedReach(start: string, banned: string[], { dynamic = true } = {}): string[] {
  const bad: string[] = [];
  const seen = new Set<string>();
  const walk = (f: string, trail: string[]) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const spec of importSpecs(f, { withTypes: false, dynamic })) {
      if (banned.includes(spec)) bad.push(`${[...trail, f].map((p) => path.relative(src, p)).join(' -> ')} imports ${spec}`);
      if (spec.startsWith('.')) { const r = resolve(f, spec); if (r) walk(r, [...trail, f]); }
    }
  };
  walk(start, []);
  return bad;
}

test('a light barrel reaches neither node-forge nor a child process, so the editor starts without them', () => {
  const lights = readdirSync(path.join(src, 'core')).map((d) => path.join(src, 'core', d, 'light.ts')).filter(existsSync);
  assert.ok(lights.length > 0, 'expected src/core/*/light.ts barrels');
  assert.deepEqual(lights.flatMap((l) => evaluatedReach(l, ['node-forge', 'execa', 'node:child_process'])), []);
});

test('the boot service (src/core/boot/service.ts, what `ipxe-farm serve` runs) evaluates no node-forge: it reads the PKI index, it signs nothing', () => {
  assert.deepEqual(evaluatedReach(path.join(src, 'core', 'boot', 'service.ts'), ['node-forge']), []);
});

test('`ipxe-farm serve` loads the CLI\'s start and the serve command only: no node-forge, no child process', () => {
  const main = path.join(src, 'cli', 'main.ts');
  assert.match(readFileSync(main, 'utf8'), /import\('\.\/commands\/serve'\)/, 'main.ts picks the serve command by itself');
  const banned = ['node-forge', 'execa', 'node:child_process'];
  assert.deepEqual([...evaluatedReach(main, banned, { dynamic: false }), ...evaluatedReach(path.join(src, 'cli', 'commands', 'serve.ts'), banned)], []);
});
