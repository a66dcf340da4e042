// The workspace of the untrusted-workspace run: a real farm made with the product's CLI (farm, CA, client dut1),
// whose .vscode/settings.json points every program path at a trap script. VS Code must ignore those workspace
// values (package.json's restrictedConfigurations) and the extension must run none of them: the trap leaves a file
// behind if anything ever executes it.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repo } from './system.mjs';

function cli(args) {
  const r = spawnSync(process.execPath, [path.join(repo, 'out', 'cli.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  if (r.status !== 0) throw new Error(`ipxe-farm ${args.join(' ')} failed (exit ${r.status ?? r.error?.message}): ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
}

/** Makes the farm under `dir`; returns the env the suite needs to find the trap and its marker. */
export function prepareUntrustedFarm(dir) {
  const farm = path.join(dir, 'farm');
  cli(['init', farm]);
  cli(['ca', 'init', '--farm', farm]);
  cli(['issue', 'client', 'dut1', '--farm', farm]);
  cli(['client', 'set', 'dut1', '--mac', '52:54:00:12:34:56', '--farm', farm]);
  cli(['nginx', 'init', '--farm', farm]);
  const marker = path.join(dir, 'trap-ran');
  const trap = path.join(dir, 'trap.sh');
  writeFileSync(trap, `#!/bin/sh\necho "$0 $*" >> '${marker}'\nexit 1\n`);
  chmodSync(trap, 0o755);
  mkdirSync(path.join(farm, '.vscode'), { recursive: true });
  writeFileSync(path.join(farm, '.vscode', 'settings.json'), JSON.stringify({
    'ipxeFarm.nginxPath': trap,
    'ipxeFarm.podmanPath': trap,
    'ipxeFarm.qemuPath': trap,
    'ipxeFarm.ipxeSource': path.join(dir, 'not-an-ipxe-tree'),
  }, null, 2));
  // Refusals reach executeCommand as errors, so the suite can read the sentence the user is shown.
  return { workspace: farm, env: { IPXE_FARM_TRAP: trap, IPXE_FARM_TRAP_MARKER: marker, IPXE_FARM_VSCODE_THROW: '1' } };
}
