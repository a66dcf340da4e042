import { parseTemplate, TemplateError } from '../farm/light';
import { RenderError, RenderInput, resolver } from './render';

// Apart from secretFiles.ts (the service's one-time tokens) so that the farm check can fill a file's contents without
// importing the request path.
/** The contents of each of a profile's secret files for one client, filled like its command line. */
export function renderSecretContents(input: RenderInput): string[] {
  const profile = input.farm.profiles[input.profileName];
  const files = profile?.secretFiles ?? [];
  const fill = resolver(input, new Set());
  return files.map((f, i) => {
    const pointer = `/profiles/${input.profileName}/secretFiles/${i}/content`;
    try {
      return parseTemplate(f.content).map((part) => {
        if ('text' in part) return part.text;
        if (part.ref.kind === 'client.mac' && !input.mac && !input.client?.macs[0]) {
          throw new RenderError(`Profile "${input.profileName}" puts {{client.mac}} in ${f.path}, but client "${input.clientName}" has no MAC on file.`, `Add one with \`ipxe-farm client set ${input.clientName} --mac …\`.`, pointer);
        }
        return fill(part.ref).text;
      }).join('');
    } catch (err) {
      if (err instanceof TemplateError) throw new RenderError(`Profile "${input.profileName}" (${pointer}): ${err.message}`, 'Fix the template in the farm file.', pointer);
      throw err;
    }
  });
}
