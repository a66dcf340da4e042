import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const repo = path.resolve(__dirname, '..', '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('src/core imports nothing from vscode, so the CLI and plain-Node tests run the same code as the editor', () => {
  const files = sources(path.join(repo, 'src', 'core'));
  assert.ok(files.length > 5, `expected core sources under ${repo}/src/core`);
  const offenders = files.filter((f) => /(from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => path.relative(repo, f)), []);
});

test('src/cli imports nothing from vscode', () => {
  const offenders = sources(path.join(repo, 'src', 'cli')).filter((f) => /['"]vscode['"]/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});

/** Every relative import of a source file, resolved to a path under src/ (what a bare-name check would miss). */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => path.relative(path.join(repo, 'src'), path.resolve(path.dirname(file), s)));
}

const domainOf = (rel: string) => rel.split(path.sep).slice(0, rel.startsWith(`core${path.sep}`) ? 2 : 1).join('/');

test('relative imports run down the layers: core reaches neither cli nor vscode, cli not vscode, nginx and boot not each other', () => {
  const bad: string[] = [];
  for (const f of sources(path.join(repo, 'src'))) {
    const from = domainOf(path.relative(path.join(repo, 'src'), f));
    for (const to of relativeImports(f).map(domainOf)) {
      if (from.startsWith('core') && (to === 'cli' || to === 'vscode')) bad.push(`${path.relative(repo, f)} -> ${to}`);
      if (from === 'cli' && to === 'vscode') bad.push(`${path.relative(repo, f)} -> ${to}`);
      // nginx serves the boot service and neither imports the other: what both need (iPXE script text) lives below both.
      if (from === 'core/nginx' && to === 'core/boot') bad.push(`${path.relative(repo, f)} -> ${to}`);
      // Who may reach the boot socket (nginx's workers) is shared by both and lives below both, in core/socket.
      if (from === 'core/boot' && to === 'core/nginx') bad.push(`${path.relative(repo, f)} -> ${to}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('the folders of src/core import each other without a circle', () => {
  const edges = new Map<string, Set<string>>();
  for (const f of sources(path.join(repo, 'src', 'core'))) {
    const from = domainOf(path.relative(path.join(repo, 'src'), f));
    for (const to of relativeImports(f).map(domainOf)) if (to !== from && to.startsWith('core/')) {
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  const circles: string[] = [];
  const walk = (node: string, trail: string[]) => {
    for (const next of edges.get(node) ?? []) {
      if (next === trail[0]) circles.push([...trail, next].join(' -> '));
      else if (!trail.includes(next) && next > trail[0]!) walk(next, [...trail, next]);
    }
  };
  for (const start of edges.keys()) walk(start, [start]);
  assert.deepEqual(circles, []);
});

test('no source file imports itself back through others (type-only imports count: they tie the files together too)', () => {
  const src = path.join(repo, 'src');
  const edges = new Map<string, string[]>();
  for (const f of sources(src)) {
    const to = relativeImports(f).map((r) => {
      const p = path.join(src, r);
      return [`${p}.ts`, path.join(p, 'index.ts')].find((c) => { try { return statSync(c).isFile(); } catch { return false; } });
    }).filter((p): p is string => p !== undefined);
    edges.set(f, to);
  }
  const circles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (f: string, trail: string[]) => {
    state.set(f, 'open');
    for (const next of edges.get(f) ?? []) {
      if (state.get(next) === 'open') circles.push([...trail.slice(trail.indexOf(next)), next].map((p) => path.relative(src, p)).join(' -> '));
      else if (!state.has(next)) visit(next, [...trail, next]);
    }
    state.set(f, 'done');
  };
  for (const f of edges.keys()) if (!state.has(f)) visit(f, [f]);
  assert.deepEqual(circles, []);
});
