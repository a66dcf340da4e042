import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { openFarm, type FarmHandle, type NginxRuntimeKind, setSetting } from '../farm/light';
import { generateNginxConfig, renderNginxConfig } from './generate';

/**
 * Make `kind` the farm's nginx runtime (the farm file is where it is decided), and keep the nginx configuration fit for
 * it: the generated listen lines differ by runtime (a local nginx on a loopback farm binds 127.0.0.1 only, which a
 * container cannot publish). A config still exactly as generated is written again for the new runtime; one the user has
 * edited is left alone, with a sentence saying what to check. Returns what was done, one sentence each, and the farm
 * opened again after the change (the handle given is a snapshot from before it).
 */
export async function switchNginxRuntime(before: FarmHandle, kind: NginxRuntimeKind): Promise<{ said: string[]; farm: FarmHandle }> {
  const was = before.farm.nginx.runtime;
  if (was === kind) return { said: [], farm: before };
  const generated = renderNginxConfig(before.farm, before.layout, before.runtime.kind);
  const onDisk = await Promise.all(generated.map((f) => fsp.readFile(f.file, 'utf8').catch(() => undefined)));
  await setSetting(before.root, 'nginx.runtime', kind);
  const after = await openFarm(before.root, { programs: before.programs });
  const said = [`nginx.runtime in ipxe-farm.json is now ${kind} (was ${was}).`];
  if (onDisk.every((text) => text === undefined)) return { said, farm: after };
  if (onDisk.every((text, i) => text === generated[i]!.text)) {
    await generateNginxConfig({ ...after, runtime: { ...after.runtime, kind } }, { force: true });
    said.push(`The nginx configuration was as \`nginx init\` wrote it, so it was written again for the ${kind} runtime.`);
  } else {
    const rel = path.relative(before.root, before.layout.nginx) || 'nginx';
    said.push(`${rel}/ was edited since \`nginx init\`: check that its listen lines suit the ${kind} runtime (\`ipxe-farm nginx init --force\` writes the generated one).`);
  }
  return { said, farm: after };
}
