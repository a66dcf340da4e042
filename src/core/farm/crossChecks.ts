import type { Farm } from './schema/farm';
import type { FarmIssue } from './issue';
import { archFacts, clientArch } from './arch';
import { normaliseMac } from './mac';
import { nameProblem } from './names';
import { profileOf } from './rules';
import { parseSecretMode } from './secretFiles';
import { profileKernel } from './profileKernel';
import { hasOwnName } from './table';
import { pointerOf } from './schema/issues';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (v: unknown): Array<[string, unknown]> => (isObj(v) ? Object.entries(v) : []);

/**
 * The rules that relate two places in the farm file, or that must see an entry the schema left out: names of
 * profiles and clients, references to profiles, a MAC given twice, a secret path used twice, a kernel for every
 * client's CPU. `raw` is the file as parsed (its indices are the ones the editor underlines); `farm` is what the
 * schema made of it, wrong values left out.
 */
export function crossChecks(farm: Farm, raw: unknown): FarmIssue[] {
  const issues: FarmIssue[] = [];
  const error = (pointer: string, message: string) => issues.push({ pointer, message, severity: 'error' });
  const root = isObj(raw) ? raw : {};

  // Own keys, "__proto__" too: a name the schema's tables skip is still a name that was written.
  for (const [table, what] of [['profiles', 'profile'], ['clients', 'client']] as const) {
    const t = root[table];
    if (!isObj(t)) continue;
    for (const n of Reflect.ownKeys(t)) {
      const problem = typeof n === 'string' ? nameProblem(what, n) : undefined;
      if (problem) error(pointerOf([table, String(n)]), problem);
    }
  }
  if (farm.server.httpPort === farm.server.httpsPort) {
    error('/server/httpPort', `/server/httpPort and /server/httpsPort are both ${farm.server.httpPort}; give them different ports.`);
  }

  const macOwner = new Map<string, string>();
  for (const [cname, c] of entries(root.clients)) {
    const macs = isObj(c) && Array.isArray(c.macs) ? c.macs : [];
    macs.forEach((m, i) => {
      const norm = typeof m === 'string' ? normaliseMac(m) : undefined;
      if (!norm) return;
      const other = macOwner.get(norm);
      if (other !== undefined) error(pointerOf(['clients', cname, 'macs', i]), `MAC ${norm} is already given to client "${other}"; a MAC belongs to one client.`);
      else macOwner.set(norm, cname);
    });
  }

  const defined = (name: string) => hasOwnName(isObj(root.profiles) ? root.profiles : undefined, name);
  for (const [cname, c] of Object.entries(farm.clients)) {
    if (c.profile !== undefined && !defined(c.profile)) {
      error(pointerOf(['clients', cname, 'profile']), `Client "${cname}" uses profile "${c.profile}", which is not defined under /profiles.`);
    }
  }
  if (farm.defaultProfile !== undefined && !defined(farm.defaultProfile)) {
    error('/defaultProfile', `The default profile "${farm.defaultProfile}" is not defined under /profiles.`);
  }

  for (const [pname, p] of entries(root.profiles)) {
    const files = isObj(p) && Array.isArray(p.secretFiles) ? p.secretFiles : [];
    const seen = new Map<string, number>();
    files.forEach((f, i) => {
      if (!isObj(f)) return;
      const at = pointerOf(['profiles', pname, 'secretFiles', i]);
      if (typeof f.path === 'string') {
        const twice = seen.get(f.path);
        if (twice !== undefined) error(`${at}/path`, `The secret file path "${f.path}" is already used by ${pointerOf(['profiles', pname, 'secretFiles', twice])}; give each file its own path.`);
        else seen.set(f.path, i);
      }
      const mode = typeof f.mode === 'string' || f.mode === undefined ? parseSecretMode(f.mode) : undefined;
      if (mode !== undefined && mode & 0o007) {
        issues.push({ pointer: `${at}/mode`, severity: 'warning', message: `Mode ${String(f.mode)} lets every user of the booted machine read this secret file; "0600" keeps it to root.` });
      }
    });
  }

  checkClientKernels(farm, error);
  return issues;
}

/** Every client's profile must have a kernel for the client's CPU: found at load time, not when the board boots. */
function checkClientKernels(farm: Farm, error: (pointer: string, message: string) => void): void {
  for (const [cname, client] of Object.entries(farm.clients)) {
    const pname = profileOf(farm, client);
    const profile = pname === undefined ? undefined : farm.profiles[pname];
    if (!profile) continue;
    const arch = clientArch(farm, cname);
    const cpu = archFacts(arch).cpu;
    if (profileKernel(profile, cpu)) continue;
    const pointer = pointerOf(client.arch ? ['clients', cname, 'arch'] : client.profile ? ['clients', cname, 'profile'] : ['clients', cname]);
    const fix = cpu === 'x86_64' ? `give /profiles/${pname} a "kernel"` : `add /profiles/${pname}/arches/${cpu} with its kernel`;
    error(pointer, `Client "${cname}" is ${arch}, but profile "${pname}" has no ${cpu} kernel: ${fix}, or give the client another profile.`);
  }
}
