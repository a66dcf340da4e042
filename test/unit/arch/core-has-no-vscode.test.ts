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
