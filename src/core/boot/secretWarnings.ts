import { type Farm, type FarmIssue, parseTemplate, TemplateError } from '../farm/light';

export const CMDLINE_SECRET_WARNING = 'is readable by every process on the machine through /proc/cmdline (and lands in boot logs); use a secret file (secretFiles) where the tool can read one';

/**
 * A secret placed on a kernel command line: allowed (boot2container and others read only the command line), but
 * marked, so the farm's owner chooses it knowingly. One warning per profile and secret, at the cmdline's pointer.
 */
export function cmdlineSecretWarnings(farm: Farm, only?: string): FarmIssue[] {
  const out: FarmIssue[] = [];
  for (const [name, profile] of Object.entries(farm.profiles)) {
    if (only !== undefined && name !== only) continue;
    let names: string[];
    try {
      names = [...new Set(parseTemplate(profile.cmdline).flatMap((p) => ('ref' in p && p.ref.kind === 'secret' ? [p.ref.name] : [])))];
    } catch (err) {
      if (err instanceof TemplateError) continue; // reported as an error by checkBootMappings
      throw err;
    }
    for (const s of names) {
      out.push({ pointer: `/profiles/${name}/cmdline`, severity: 'warning', message: `Profile "${name}" puts {{secret.${s}}} on the kernel command line, which ${CMDLINE_SECRET_WARNING}.` });
    }
  }
  return out;
}

/** Template problems in secret files' contents: unknown placeholders, secrets that secrets.json lacks. */
export function secretFileTemplateIssues(farm: Farm, secrets: Record<string, string>): FarmIssue[] {
  const out: FarmIssue[] = [];
  for (const [name, profile] of Object.entries(farm.profiles)) {
    (profile.secretFiles ?? []).forEach((f, i) => {
      const pointer = `/profiles/${name}/secretFiles/${i}/content`;
      try {
        for (const part of parseTemplate(f.content)) {
          if ('ref' in part && part.ref.kind === 'secret' && !(part.ref.name in secrets)) {
            out.push({ pointer, severity: 'error', message: `Profile "${name}" puts {{secret.${part.ref.name}}} in ${f.path}, but secrets.json has no secret "${part.ref.name}"; run \`ipxe-farm secret set ${part.ref.name}\`.` });
          }
        }
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        out.push({ pointer, severity: 'error', message: `Profile "${name}", secret file ${f.path}: ${err.message}` });
      }
    });
  }
  return out;
}
