import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { loadFarm } from '../farm/load';
import type { NginxRuntimeKind } from '../farm/model';
import { setSetting } from '../farm/settings';
import { generateNginxConfig, renderNginxConfig } from './generate';

/**
 * Make `kind` the farm's nginx runtime (the farm file is where it is decided), and keep the nginx configuration fit for
 * it: the generated listen lines differ by runtime (a local nginx on a loopback farm binds 127.0.0.1 only, which a
 * container cannot publish). A config still exactly as generated is written again for the new runtime; one the user has
 * edited is left alone, with a sentence saying what to check. Returns what was done, one sentence each.
 */
export async function switchNginxRuntime(root: string, kind: NginxRuntimeKind): Promise<string[]> {
  const before = await loadFarm(root);
  const was = before.farm.nginx.runtime;
  if (was === kind) return [];
  const generated = renderNginxConfig(before.farm, before.layout);
  const onDisk = await Promise.all(generated.map((f) => fsp.readFile(f.file, 'utf8').catch(() => undefined)));
  await setSetting(root, 'nginx.runtime', kind);
  const said = [`nginx.runtime in ipxe-farm.json is now ${kind} (was ${was}).`];
  if (onDisk.every((text) => text === undefined)) return said;
  if (onDisk.every((text, i) => text === generated[i]!.text)) {
    await generateNginxConfig(root, { force: true });
    said.push(`The nginx configuration was as \`nginx init\` wrote it, so it was written again for the ${kind} runtime.`);
  } else {
    const rel = path.relative(root, before.layout.nginx) || 'nginx';
    said.push(`${rel}/ was edited since \`nginx init\`: check that its listen lines suit the ${kind} runtime (\`ipxe-farm nginx init --force\` writes the generated one).`);
  }
  return said;
}
