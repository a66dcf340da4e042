import * as path from 'node:path';
import { FarmError } from '../errors';
import { ensureDir, writeFileAtomic } from '../fs/light';
import type { FarmHandle } from '../farm/light';
import { deployUnits, DeployKind, DeployOptions } from './units';

/** Write the units into `dir` (for the admin to copy into /etc/systemd/system or /etc/containers/systemd). */
export async function writeDeployUnits(h: FarmHandle, dir: string, kind: DeployKind, opts: DeployOptions = {}): Promise<string[]> {
  let units;
  try {
    units = deployUnits(h.farm, h.layout, kind, { runtime: h.runtime.kind, ...opts });
  } catch (err) {
    throw new FarmError((err as Error).message, 'Move the farm, or pass --bin with a plain absolute path.', 'EBADPATH');
  }
  await ensureDir(dir);
  const written: string[] = [];
  for (const u of units) {
    const file = path.join(dir, u.name);
    await writeFileAtomic(file, u.text);
    written.push(file);
  }
  return written;
}
