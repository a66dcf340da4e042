import { FarmError } from '../errors';
import { explainBoot, type Explanation } from './explain';

export interface ClientScript {
  explanation: Explanation;
  /** The script as a person sees it (secrets masked unless revealed). */
  script: string;
  /** Said before the script when the client has no certificate yet: this is what it will get once it has one. */
  note?: string;
}

/**
 * The script a client gets now, with the checks the boot service makes (its certificate valid, not revoked, its
 * mapping sound): the CLI's `script` and the editor's Show Script both ask here, so neither shows a script the service
 * would refuse. Throws a FarmError saying why there is none.
 */
export async function clientScript(root: string, client: string, opts: { reveal?: boolean; mac?: string } = {}): Promise<ClientScript> {
  const e = await explainBoot(root, client, opts);
  if (e.error) throw new FarmError(e.error, undefined, 'ERENDER');
  if (e.preview && e.script) return { explanation: e, script: e.script, note: `${e.decision.steps[0]}; this is the script it will get.` };
  if (!e.decision.ok) throw new FarmError(`This client would be refused: ${e.decision.reason}.`, undefined, 'EREFUSED');
  return { explanation: e, script: e.script! };
}
