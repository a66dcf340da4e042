// The .vsix: `vsce package` offline (the bundles already hold node-forge and execa, so --no-dependencies: nothing from
// node_modules goes in, and vsce need not ask npm), then the proof that it installs and loads in a real VS Code.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { bundleVsixSuite } from './vscode-build.mjs';
import { runVsCodeTests } from './vscode-run.mjs';
import { repo } from './system.mjs';

export function manifest() {
  return JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
}

export function extensionId() {
  const m = manifest();
  return `${m.publisher}.${m.name}`;
}

/** Packages the already-built extension into `outFile`; returns its size and file count. */
export function packageVsix(outFile) {
  mkdirSync(path.dirname(outFile), { recursive: true });
  const vsce = path.join(repo, 'node_modules', '@vscode', 'vsce', 'vsce');
  // --no-rewrite-relative-links: the repository field is not a GitHub/GitLab URL, so vsce would refuse any relative
  // link or image in README.md (screenshots!); left relative, they resolve inside the installed extension.
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', outFile], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`vsce package failed (exit ${r.status ?? r.error?.message}): ${said.trim().split('\n').slice(-5).join(' ')}`);
  const files = Number(/\((\d+) files?,/.exec(said)?.[1] ?? NaN);
  return { file: outFile, bytes: statSync(outFile).size, files };
}

export function describeSize(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * Installs `vsixFile` into a fresh VS Code (code-server --install-extension into the sandbox's extensions folder),
 * checks --list-extensions shows it, then runs test/vscode/vsix against the installed copy. Same result shape as
 * runVsCodeTests().
 */
export async function verifyVsix(vsixFile, { onLine, onNote, timeoutMs } = {}) {
  const testsEntry = await bundleVsixSuite();
  return runVsCodeTests({
    testsEntry,
    installVsix: vsixFile,
    expectExtension: extensionId(),
    env: { IPXE_FARM_VSIX_VERSION: manifest().version },
    onLine,
    onNote,
    timeoutMs,
  });
}
