#!/usr/bin/env node
// `npm run package`: builds the extension, packages out/ipxe-farm-<version>.vsix with vsce (offline) and prints its
// size, then proves it installs: code-server --install-extension into a temp extensions folder, --list-extensions
// shows it, and a real VS Code loads the installed copy, activates it and runs Create Farm (test/vscode/vsix/).
//   --no-install-check   only build and package
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildExtension, removeBundles } from './lib/vscode-build.mjs';
import { summaryLine } from './lib/vscode-lines.mjs';
import { describeSize, manifest, packageVsix, verifyVsix } from './lib/vscode-package.mjs';
import { ensureNodeModules, repo } from './lib/system.mjs';

const { values } = parseArgs({ options: { 'no-install-check': { type: 'boolean' } } });

ensureNodeModules();
let packaged;
try {
  buildExtension();
  const { name, version } = manifest();
  const started = Date.now();
  packaged = packageVsix(path.join(repo, 'out', `${name}-${version}.vsix`));
  console.log(`packaged ${path.relative(repo, packaged.file)}: ${describeSize(packaged.bytes)} (${packaged.bytes} bytes, ${packaged.files} files) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  console.error(`package: ${err.message}`);
  process.exit(1);
}

if (values['no-install-check']) process.exit(0);

console.log('\nchecking that it installs and loads in a real VS Code:');
const result = await verifyVsix(packaged.file, { onLine: (l) => console.log(l) });
removeBundles();
const counts = result.counts ?? { passed: 0, failed: 0, skipped: 0 };
if (result.problem) {
  console.log(`# the install check failed: ${result.problem}`);
  counts.failed += 1;
} else if (!result.counts || (result.exitCode !== 0 && counts.failed === 0)) {
  console.log(`# the install check did not report cleanly (exit code ${result.exitCode})`);
  counts.failed += 1;
}
console.log(summaryLine(counts));
process.exit(counts.failed > 0 ? 1 : 0);
