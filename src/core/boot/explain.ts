import { FarmError } from '../errors';
import { maskSecrets } from '../secrets/light';
import { hasOwnName, profileOf } from '../farm/light';
import { RenderInput, renderScript } from './render';
import { secretFilesAsComments, ShownSecretFile, showSecretFiles } from './secretFiles';
import { showTokenSlots } from './secretLines';
import { cmdlineSecretWarnings } from './secretWarnings';
import { BootDecision, selectBoot } from './select';
import { loadBootState } from './state';
import { mappingRefusal } from './refusals';

export interface Explanation {
  query: string;
  decision: BootDecision;
  /** The script this certificate gets now, secrets masked unless `reveal`. */
  script?: string;
  error?: string;
  /** True when the client has no certificate yet: the script is what it will get once it has one. */
  preview?: boolean;
  /** The profile's secret files (contents masked unless `reveal`); their URLs in `script` show a placeholder token. */
  secretFiles?: ShownSecretFile[];
  /** Things allowed but worth a second look (a secret on the kernel command line). */
  warnings?: string[];
}

/** The script as a person sees it: secrets masked unless revealed, one-time tokens as a placeholder, files listed. */
function shown(input: RenderInput, reveal: boolean): Pick<Explanation, 'script' | 'secretFiles' | 'warnings'> {
  const { script } = renderScript(input);
  const secretFiles = showSecretFiles(input, reveal);
  const warnings = cmdlineSecretWarnings(input.farm, input.profileName).map((w) => w.message);
  return {
    script: showTokenSlots(reveal ? script : maskSecrets(script, input.secrets)) + secretFilesAsComments(secretFiles),
    ...(secretFiles.length ? { secretFiles } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
}

/**
 * Why a client (by name) or a certificate (by SHA-1 fingerprint) gets the script it gets, following exactly the steps
 * the service takes for a request: the client's newest valid certificate stands in for a request made with it.
 */
export async function explainBoot(root: string, query: string, opts: { reveal?: boolean; mac?: string } = {}): Promise<Explanation> {
  const state = await loadBootState(root);
  let fingerprint: string;
  const fp = query.toLowerCase().replace(/:/g, '');
  if (/^[0-9a-f]{40}$/.test(fp)) fingerprint = fp;
  else {
    const certs = state.certs.ofClient(query);
    if (certs.length === 0) {
      if (!hasOwnName(state.farm.clients, query)) {
        throw new FarmError(`"${query}" is neither a client of this farm nor a SHA-1 fingerprint.`, 'Give a client name from /clients or a 40-hex-digit fingerprint.', 'ENOCLIENT');
      }
      // No certificate yet: show what it will get (the editor previews scripts before anything is issued).
      const client = state.farm.clients[query]!;
      const profile = profileOf(state.farm, client);
      const steps = [`client ${query} has no certificate yet, so no machine can boot as it (run \`ipxe-farm issue client ${query}\`)`];
      const broken = mappingRefusal(state.refusals, query, client, profile);
      if (broken) return { query, decision: { ok: false, reason: 'no certificate yet', client: query, steps }, error: broken, preview: true };
      if (!profile) {
        steps.push('refused: it has no profile and the farm has no default profile');
        return { query, decision: { ok: false, reason: steps[1]!.slice(9), client: query, steps } };
      }
      steps.push(`once issued, it boots profile ${profile} (${client.profile ? 'set on the client' : 'the default profile'})`);
      try {
        const made = shown({ farm: state.farm, layout: state.layout, secrets: state.secrets, clientName: query, client, profileName: profile, mac: opts.mac }, opts.reveal === true);
        return { query, decision: { ok: false, reason: 'no certificate yet', client: query, steps }, ...made, preview: true };
      } catch (err) {
        return { query, decision: { ok: false, reason: 'no certificate yet', client: query, steps }, error: (err as Error).message, preview: true };
      }
    }
    fingerprint = (certs.find((c) => c.status === 'valid') ?? certs[0]!).sha1;
  }
  const decision = selectBoot(state.farm, state.certs, { verify: 'SUCCESS', fingerprint, mac: opts.mac }, new Date(), state.refusals);
  if (!decision.ok) return { query, decision };
  try {
    const made = shown({
      farm: state.farm, layout: state.layout, secrets: state.secrets, clientName: decision.client,
      client: decision.clientEntry, profileName: decision.profile, mac: decision.mac,
    }, opts.reveal === true);
    return { query, decision, ...made };
  } catch (err) {
    return { query, decision, error: (err as Error).message };
  }
}
