import { describeError } from '../errors';
import { openFarm, type FarmHandle, type NginxRuntimeKind } from '../farm/light';
import { createNginxRuntime } from './createRuntime';

export interface CrlReload {
  /** false: a running nginx of this farm still has the old CRL (or it could not be told which nginx that is). */
  ok: boolean;
  reloaded: boolean;
  /** One sentence for a person: what was done, or exactly why not. */
  message: string;
}

/**
 * After a revocation: make the farm's running nginx read the new CRL, tested first like every reload so a broken config
 * never replaces the running one. Never throws: the revocation is already recorded, and the caller reports what
 * happened to nginx. The farm is opened here, after the revocation, and not taken from the caller: the PKI functions
 * work on a folder, and which nginx runs is a question for now, not for when the command started.
 */
export async function reloadNginxForCrl(root: string, signal?: AbortSignal): Promise<CrlReload> {
  let h: FarmHandle;
  try {
    h = await openFarm(root);
  } catch (err) {
    return {
      ok: false, reloaded: false,
      message: `nginx was not reloaded, because the farm file says which nginx serves this farm and it cannot be read (${describeError(err).replace(/\.$/, '')}); fix it and run \`ipxe-farm nginx reload\` (the boot service refuses the certificate already).`,
    };
  }
  // The runtime the farm resolved (its run record first); an nginx started before run records existed is the declared one.
  const kinds: NginxRuntimeKind[] = [...new Set([h.runtime.kind, h.runtime.declared])];
  const said: string[] = [];
  let reloaded = false;
  let ok = true;
  for (const kind of kinds) {
    const rt = createNginxRuntime(h, kind);
    try {
      const st = await rt.status(signal);
      if (st.state !== 'running') continue;
      const r = await rt.reload(signal);
      if (r.reloaded) { reloaded = true; said.push(`nginx (${kind}, ${st.where}) reloaded: it refuses the revoked certificate from now on`); continue; }
      ok = false;
      const first = r.diagnostics.find((d) => d.severity === 'error') ?? r.diagnostics[0];
      said.push(`nginx (${kind}) was NOT reloaded: its configuration fails \`nginx -t\`${first ? ` (${first.file}${first.line ? `:${first.line}` : ''}: ${first.message})` : ''}, so it accepts the certificate until that is fixed and \`ipxe-farm nginx reload\` runs (the boot service refuses it already)`);
    } catch (err) {
      ok = false;
      said.push(`nginx (${kind}) was not reloaded: ${describeError(err).replace(/\.$/, '')} (the boot service refuses the certificate already)`);
    }
  }
  if (said.length === 0) return { ok: true, reloaded: false, message: 'nginx is not running; it reads the new CRL when it starts.' };
  return { ok, reloaded, message: `${said.join('; ')}.` };
}
