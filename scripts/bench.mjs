#!/usr/bin/env node
// `npm run bench -- NAME [ARGS…]`: builds one benchmark with esbuild and runs it; the figures go to stdout.
// Benchmarks are not tests: they measure, print, and leave the judging to the reader (targets in each README).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureNodeModules, repo } from './lib/system.mjs';

const BENCHES = {
  pki: ['bench/pki/issue-bench.ts', 'certificates per second vs the seed\'s openssl loop; issue + expiry report with 10,000 in the index'],
  nginx: ['bench/nginx/save-to-served.ts', 'save-to-served latency (podman and local) vs the bare reload command; diagnostics latency'],
  boot: ['bench/boot/bench.ts', 'boot service through mTLS nginx vs a static file and the seed\'s Flask/gunicorn app; each alone'],
  ipxe: ['bench/ipxe/build.ts', 'clean iPXE build, rebuild for another client, images for 20 clients'],
  shared: ['bench/ipxe/shared.ts', 'one more client\'s image with the shared iPXE (built once per farm) vs per-client make; 20 new clients'],
  arm64: ['bench/qemu/arm64-boot.ts', 'arm64 stock boot to the Linux marker under TCG: product vs the same chain by hand'],
  'secret-files': ['bench/boot/secretFiles.ts', 'boot to the Linux marker with one secret file vs the secret on the command line (stock EFI)'],
  stages: ['bench/boot/stages.ts', 'boot stage times under QEMU: the product\'s farm-tuned image vs the seed\'s chain built by hand (stock iPXE config)'],
  boards: ['bench/boards/power-path.ts', '▶ to "script served": board (pdudaemon + ser2net) vs the QEMU driver; train --boots N wall time and verdicts'],
  demo: ['bench/demo/demo.ts', '`npm run demo` wall time and stage times: Debian\'s prebuilt iPXE (stock) vs an ISO built from IPXE_SRC'],
  editor: ['bench/vscode/editor.mjs', 'activation and 1,000-client tree render inside the real VS Code; .vsix size'],
};

const [name, ...rest] = process.argv.slice(2);
if (!name || !BENCHES[name]) {
  console.error(`usage: npm run bench -- NAME [ARGS]\n${Object.entries(BENCHES).map(([k, [, d]]) => `  ${k.padEnd(7)} ${d}`).join('\n')}`);
  process.exit(2);
}
ensureNodeModules();
const [entry] = BENCHES[name];
let script = path.join(repo, entry);
if (entry.endsWith('.ts')) {
  script = path.join(repo, 'out', 'bench', `${name}.js`);
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [path.join(repo, entry)], bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], outfile: script, external: ['esbuild', 'vscode'], logLevel: 'warning' });
}
const r = spawnSync(process.execPath, [script, ...rest], { stdio: 'inherit', cwd: repo });
process.exit(r.status ?? 1);
