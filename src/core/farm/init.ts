import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { FarmError } from '../errors';
import { ensureDir, exists, writeFileAtomic } from '../fs/light';
import { farmLayout, FarmLayout } from './layout';
import { starterFarm, type NginxRuntimeKind } from './model';
import { checkName } from './rules';
import { serialiseFarm } from './load';

/** What a farm's own repository must never track: keys, secrets and runtime state. */
export const FARM_GITIGNORE = `# Written by iPXE Farm: keys, secrets, images (they embed a client key) and runtime state stay out of git.
*.key
secrets.json
.ipxe-farm/
ipxe/*/out/
`;

export interface InitOptions {
  name?: string;
  /** How the farm runs nginx (default: the starter farm's, podman). */
  runtime?: NginxRuntimeKind;
}

/** A new farm: the starter ipxe-farm.json and its folders. Refuses to touch an existing farm. */
export async function initFarm(dir: string, opts: InitOptions = {}): Promise<FarmLayout> {
  const layout = farmLayout(dir);
  const name = opts.name ?? (path.basename(layout.root).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'farm');
  checkName('farm', name);
  if (await exists(layout.farmFile)) {
    throw new FarmError(`${layout.farmFile} already exists; init never overwrites a farm.`, 'Use that farm, or init another folder.', 'EEXIST');
  }
  await ensureDir(layout.root);
  await ensureDir(layout.pki, 0o700, true);
  await ensureDir(layout.runtime, 0o700, true);
  for (const d of [layout.nginx, layout.files, layout.ipxe]) await ensureDir(d);
  const farm = starterFarm(name);
  if (opts.runtime) farm.nginx.runtime = opts.runtime;
  await writeFileAtomic(layout.farmFile, serialiseFarm(farm as unknown as Record<string, unknown>));
  const gitignore = path.join(layout.root, '.gitignore');
  if (!(await exists(gitignore))) await writeFileAtomic(gitignore, FARM_GITIGNORE);
  else {
    const have = await fsp.readFile(gitignore, 'utf8');
    if (!have.includes('secrets.json')) await writeFileAtomic(gitignore, `${have.trimEnd()}\n\n${FARM_GITIGNORE}`);
  }
  return layout;
}
