import * as fs from 'node:fs';
import { type FarmLayout, checkFarmText, LocatedIssue, type Farm, type FarmIssue, positionOf, farmLayout, parseTemplate, TemplateError, hasOwnName, profileOf } from '../farm/light';
import { type Secrets, readSecrets } from '../secrets/light';
import { fileOnDisk, fileReferenceProblem, fileRelative, isFileReference, RenderError, renderScript } from './render';
import { renderSecretContents } from './secretContents';
import { cmdlineSecretWarnings, secretFileTemplateIssues } from './secretWarnings';

/**
 * A boot-mapping problem; its pointer says whose it is (a client's or a profile's, see refusals.ts). `missing` marks a file, signature or secret that is simply not there yet (the CLI's --allow-missing accepts those).
 */
export interface BootIssue extends FarmIssue {
  missing?: true;
  /** The file on disk a `missing` problem waits for. */
  file?: string;
}

/**
 * Boot mappings checked when the farm is loaded, not when a machine boots: templates parse, every secret and file a
 * profile names exists, and every client's script renders safely. Pointers are JSON pointers into the farm file.
 */
export function checkBootMappings(farm: Farm, layout: FarmLayout, secrets: Secrets, fileExists = (f: string) => fs.existsSync(f)): BootIssue[] {
  const issues: BootIssue[] = [];
  const error = (pointer: string, message: string, more: Partial<BootIssue> = {}) => issues.push({ pointer, message, severity: 'error', ...more });
  const profileOk = new Set<string>();

  for (const [name, profile] of Object.entries(farm.profiles)) {
    const p = `/profiles/${name}`;
    let ok = true;
    // The top-level (x86_64) kernel if there is one, and each architecture's.
    const kernels: Array<{ at: string; kernel: string; initrds: string[]; cmdline?: string }> = [
      ...(profile.kernel ? [{ at: p, kernel: profile.kernel, initrds: profile.initrds, cmdline: profile.cmdline }] : []),
      ...Object.entries(profile.arches ?? {}).map(([cpu, k]) => ({ at: `${p}/arches/${cpu}`, ...k! })),
    ];
    const templates: [string, string][] = [
      [`${p}/cmdline`, profile.cmdline],
      ...kernels.flatMap((k): [string, string][] => [
        [`${k.at}/kernel`, k.kernel],
        ...(k.at !== p && k.cmdline !== undefined ? [[`${k.at}/cmdline`, k.cmdline] as [string, string]] : []),
        ...k.initrds.map((t, i): [string, string] => [`${k.at}/initrds/${i}`, t]),
      ]),
      ...profile.extra.map((t, i): [string, string] => [`${p}/extra/${i}`, t]),
    ];
    for (const [pointer, t] of templates) {
      try {
        for (const part of parseTemplate(t)) {
          if ('ref' in part && part.ref.kind === 'secret' && !hasOwnName(secrets, part.ref.name)) {
            error(pointer, `Profile "${name}" uses {{secret.${part.ref.name}}}, but secrets.json has no secret "${part.ref.name}"; run \`ipxe-farm secret set ${part.ref.name}\`.`, { missing: true });
            ok = false;
          }
        }
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        error(pointer, `Profile "${name}": ${err.message}`);
        ok = false;
      }
    }
    const images = kernels.flatMap((k): [string, string][] => [[`${k.at}/kernel`, k.kernel], ...k.initrds.map((t, i): [string, string] => [`${k.at}/initrds/${i}`, t])]);
    for (const [pointer, ref] of images) {
      if (!isFileReference(ref)) continue;
      const problem = fileReferenceProblem(ref);
      if (problem) { error(pointer, `Profile "${name}": the file reference "${ref}" ${problem}; name a file under files/.`); ok = false; continue; }
      const file = fileOnDisk(layout, ref);
      if (!fileExists(file)) { error(pointer, `Profile "${name}" boots files/${fileRelative(ref)}, which does not exist; put the file under files/ or use a URL.`, { missing: true, file }); ok = false; continue; }
      if (profile.verify && !fileExists(`${file}.sig`)) {
        error(pointer, `Profile "${name}" has verify on, but files/${fileRelative(ref)}.sig does not exist; sign the file (\`ipxe-farm sign\`) or set verify to false.`, { missing: true, file: `${file}.sig` });
        ok = false;
      }
    }
    if (ok) profileOk.add(name);
  }

  const secretFileIssues = secretFileTemplateIssues(farm, secrets);
  for (const i of secretFileIssues) profileOk.delete(i.pointer.split('/')[2]!);
  issues.push(...secretFileIssues, ...cmdlineSecretWarnings(farm));

  // Render every client once: a variable or secret that could break the script is found now, where it was written.
  for (const [name, client] of Object.entries(farm.clients)) {
    const profile = profileOf(farm, client);
    if (!profile || !profileOk.has(profile)) continue;
    try {
      renderScript({ farm, layout, secrets, clientName: name, client, profileName: profile });
      renderSecretContents({ farm, layout, secrets, clientName: name, client, profileName: profile });
    } catch (err) {
      if (!(err instanceof RenderError)) throw err;
      // A problem at the profile's pointer (its template, a secret's value) is the same for all of its clients, and
      // each of them is told it (refusals.ts): it must not name the one client it happened to be found with.
      const message = err.pointer.startsWith('/clients/') ? err.message : err.message.replace(` for client "${name}"`, '');
      error(err.pointer, `${message} ${err.fix ?? ''}`.trim());
    }
  }
  if (farm.defaultProfile && hasOwnName(farm.profiles, farm.defaultProfile) && profileOk.has(farm.defaultProfile)) {
    // A certificate without a /clients entry boots the default profile with only its name known.
    try {
      renderScript({ farm, layout, secrets, clientName: 'any-client', profileName: farm.defaultProfile });
    } catch (err) {
      if (!(err instanceof RenderError)) throw err;
      if (err.message.includes('{{client.vars.')) {
        error('/defaultProfile', `The default profile "${farm.defaultProfile}" uses {{client.vars.…}}, which a machine without a /clients entry does not have.`);
      } else if (!issues.some((i) => i.pointer === err.pointer)) error(err.pointer, `${err.message} ${err.fix ?? ''}`.trim());
    }
  }
  return issues;
}

/**
 * Everything wrong with a farm file's text, farm-file rules and boot mappings together, each with its position: the
 * editor's Problems panel shows these on save. `text` is the editor's buffer (the file on disk when omitted).
 */
export async function checkFarmWithBoot(root: string, text?: string): Promise<LocatedIssue[]> {
  const layout = farmLayout(root);
  const body = text ?? fs.readFileSync(layout.farmFile, 'utf8');
  const base = checkFarmText(body);
  if (!base.farm || base.issues.some((i) => i.severity === 'error')) return base.issues;
  let secrets: Secrets;
  try {
    secrets = await readSecrets(root);
  } catch (err) {
    return [...base.issues, { pointer: '', severity: 'error', message: (err as Error).message, at: positionOf(body, '') }];
  }
  const boot = checkBootMappings(base.farm, layout, secrets);
  return [...base.issues, ...boot.map((i) => ({ ...i, at: positionOf(body, i.pointer) }))];
}
