import { FarmError, UsageError } from '../errors';
import { updateFarm, type SecretFile, checkName, profileOf, normaliseMac, CLIENT_ARCHES, CPU_ARCHES, isClientArch, emptyTable, hasOwnName, own, type Farm, type LoadedFarm, type FarmHandle } from '../farm/light';
import { readSecrets } from '../secrets/light';
import { BootIssue, checkBootMappings } from './check';
import { attributeIssues, mappingRefusal } from './refusals';

/**
 * Boot mappings changed without editing JSON: the CLI's `profile …`/`client …` and the editor's commands call these,
 * so both refuse the same things with the same sentences. Each change goes through updateFarm: validated as a whole,
 * written atomically, or refused with the file untouched.
 */

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {});

export interface ProfileFields {
  /** The CPU the kernel, initrds and command line are for (`arm64` goes under /profiles/P/arches); default x86_64. */
  arch?: string;
  kernel?: string;
  initrds?: string[];
  cmdline?: string;
  verify?: boolean;
  extra?: string[];
  description?: string;
  /** Replaces the profile's secret files (an empty list removes them). */
  secretFiles?: SecretFile[];
}

/**
 * `PATH=TEMPLATE` or `PATH:MODE=TEMPLATE` (the CLI's --secret-file): a path holds neither ":" nor "=", so the first
 * "=" ends the path. The path and mode are checked with the farm file's rules when the change is validated.
 */
export function parseSecretFileArg(arg: string): SecretFile {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UsageError(`--secret-file "${arg.slice(0, 40)}" is not PATH=TEMPLATE.`, 'Write it as /run/secrets/minio.env=\'KEY={{secret.minio}}\' (add :0640 after the path for another mode).');
  const head = arg.slice(0, eq);
  const colon = head.indexOf(':');
  const path = colon < 0 ? head : head.slice(0, colon);
  const content = arg.slice(eq + 1);
  return colon < 0 ? { path, content } : { path, content, mode: head.slice(colon + 1) };
}

export interface ClientFields {
  profile?: string;
  /** CPU and firmware (x86_64-bios, x86_64-efi, arm64-efi). */
  arch?: string;
  /** Replaces the client's MAC list; each is normalised to iPXE's ${mac} form. */
  macs?: string[];
  /** Merged into the client's variables. */
  vars?: Record<string, string>;
  description?: string;
}

export interface MappingWriteOptions {
  /** A file, signature or secret the change names may come later: write anyway, that client is refused until then. */
  allowMissing?: boolean;
  /** What was accepted under allowMissing, one sentence each (the CLI prints them). */
  onMissing?: (sentence: string) => void;
}

/**
 * The boot service refuses a client whose mapping it cannot serve; the CLI and the editor refuse to write such a
 * mapping in the first place. Only problems this change brings count: a farm that is already wrong elsewhere can still
 * be edited (and mended) one step at a time.
 */
export function servableCheck(root: string, opts: MappingWriteOptions) {
  return async (next: Farm, current: LoadedFarm): Promise<void> => {
    const secrets = await readSecrets(root);
    const key = (i: BootIssue) => `${i.pointer}\0${i.message}`;
    const beforeIssues = checkBootMappings(current.farm, current.layout, secrets);
    const before = new Set(beforeIssues.map(key));
    const wasRefused = attributeIssues(beforeIssues).refusals;
    const nowIssues = checkBootMappings(next, current.layout, secrets).filter((i) => i.severity === 'error');
    const nowRefused = attributeIssues(nowIssues).refusals;
    const added = nowIssues.filter((i) => !before.has(key(i)));
    // A client put on a profile that is already broken brings no new issue, but a new refusal all the same.
    for (const [name, c] of Object.entries(next.clients)) {
      const why = mappingRefusal(nowRefused, name, c, profileOf(next, c));
      const old = own(current.farm.clients, name);
      if (!why || why === mappingRefusal(wasRefused, name, old, old ? profileOf(current.farm, old) : undefined)) continue;
      const under = (p: string, base: string) => p === base || p.startsWith(`${base}/`);
      const profile = profileOf(next, c);
      const behind = nowIssues.filter((i) => under(i.pointer, `/clients/${name}`) || (profile !== undefined && under(i.pointer, `/profiles/${profile}`)));
      if (!behind.some((i) => added.includes(i))) added.push({ pointer: `/clients/${name}`, message: why, severity: 'error', missing: behind.every((i) => i.missing) ? true : undefined });
    }
    const refused = opts.allowMissing ? added.filter((i) => !i.missing) : added;
    if (refused.length > 0) {
      const more = refused.length > 1 ? ` (and ${refused.length - 1} more problem${refused.length > 2 ? 's' : ''})` : '';
      const onlyMissing = refused.every((i) => i.missing);
      throw new FarmError(
        `${refused[0]!.message.replace(/\.$/, '')}${more}.`,
        onlyMissing ? 'Nothing was written; pass --allow-missing if it comes later (that client is refused until it is there).' : 'Nothing was written.',
        'EMAPPING',
      );
    }
    for (const i of added) opts.onMissing?.(`${i.message} (accepted with --allow-missing: that client is refused until it is there)`);
  };
}

/**
 * What removing secret `name` would break, in one sentence, or undefined: a profile that uses it would leave its
 * clients refused at boot.
 */
export async function secretRemovalProblem(loaded: FarmHandle, name: string): Promise<string | undefined> {
  const secrets = await readSecrets(loaded.root);
  if (!hasOwnName(secrets, name)) return undefined;
  const rest = emptyTable<string>();
  for (const [k, v] of Object.entries(secrets)) if (k !== name) rest[k] = v;
  const key = (i: BootIssue) => `${i.pointer}\0${i.message}`;
  const before = new Set(checkBootMappings(loaded.farm, loaded.layout, secrets).map(key));
  const added = checkBootMappings(loaded.farm, loaded.layout, rest).filter((i) => i.severity === 'error' && !before.has(key(i)));
  return added.length ? added[0]!.message.replace(/\.$/, '') : undefined;
}

export function normaliseMacs(macs: string[]): string[] {
  return macs.map((m) => normaliseMac(m) ?? (() => { throw new UsageError(`"${m}" is not a MAC address.`, 'Write it as 52:54:00:12:34:56.'); })());
}

function apply(p: Raw, f: ProfileFields): Raw {
  const { arch, ...fields } = f;
  const out = { ...p };
  if (arch === undefined || arch === 'x86_64') {
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
    return out;
  }
  if (!(CPU_ARCHES as readonly string[]).includes(arch)) throw new UsageError(`"${arch}" is not a CPU architecture iPXE Farm boots.`, `Use one of ${CPU_ARCHES.join(', ')}.`);
  // The kernel, initrds and command line go to this CPU's entry; the rest stays the profile's.
  const { kernel, initrds, cmdline, ...shared } = fields;
  for (const [k, v] of Object.entries(shared)) if (v !== undefined) out[k] = v;
  const arches = obj(out.arches);
  const entry: Raw = { initrds: [], ...obj(arches[arch]) };
  if (kernel !== undefined) entry.kernel = kernel;
  if (initrds !== undefined) entry.initrds = initrds;
  if (cmdline !== undefined) entry.cmdline = cmdline;
  out.arches = { ...arches, [arch]: entry };
  return out;
}

export async function addProfile(root: string, name: string, fields: ProfileFields, w: MappingWriteOptions = {}): Promise<void> {
  checkName('profile', name);
  if (!fields.kernel) throw new UsageError(`Profile "${name}" needs a kernel.`, 'Give it a URL or a file under files/ (--kernel).');
  await updateFarm(root, (raw) => {
    const profiles = obj(raw.profiles);
    if (hasOwnName(profiles, name)) throw new FarmError(`Profile "${name}" already exists.`, `Change it with \`ipxe-farm profile set ${name}\`.`, 'EEXIST');
    const base: Raw = fields.arch && fields.arch !== 'x86_64' ? { cmdline: '', verify: false, extra: [] } : { kernel: fields.kernel, initrds: [], cmdline: '', verify: false, extra: [] };
    raw.profiles = { ...profiles, [name]: apply(base, fields) };
  }, servableCheck(root, w));
}

export async function setProfile(root: string, name: string, fields: ProfileFields, opts: { makeDefault?: boolean } & MappingWriteOptions = {}): Promise<void> {
  await updateFarm(root, (raw) => {
    const profiles = obj(raw.profiles);
    if (!hasOwnName(profiles, name)) throw new FarmError(`There is no profile "${name}".`, `Add it with \`ipxe-farm profile add ${name} --kernel …\`.`, 'ENOENT');
    raw.profiles = { ...profiles, [name]: apply(obj(profiles[name]), fields) };
    if (opts.makeDefault) raw.defaultProfile = name;
  }, servableCheck(root, opts));
}

export async function removeProfile(root: string, name: string): Promise<void> {
  await updateFarm(root, (raw, farm) => {
    const users = Object.entries(farm.clients).filter(([, c]) => c.profile === name).map(([n]) => n);
    if (users.length) throw new FarmError(`Profile "${name}" is used by ${users.join(', ')}.`, 'Give those clients another profile first (`ipxe-farm client set NAME --profile P`).', 'EBUSY');
    if (farm.defaultProfile === name) throw new FarmError(`Profile "${name}" is the default profile.`, 'Make another profile the default first (`ipxe-farm profile set P --default`).', 'EBUSY');
    const profiles = obj(raw.profiles);
    if (!hasOwnName(profiles, name)) throw new FarmError(`There is no profile "${name}".`, undefined, 'ENOENT');
    delete profiles[name];
    raw.profiles = profiles;
  });
}

/** Create or change a client's mapping; `create` refuses a client that already exists. */
export async function setClient(root: string, name: string, fields: ClientFields, opts: { create?: boolean } & MappingWriteOptions = {}): Promise<void> {
  checkName('client', name);
  const macs = fields.macs && normaliseMacs(fields.macs);
  if (fields.arch !== undefined && !isClientArch(fields.arch)) {
    throw new UsageError(`"${fields.arch}" is not an architecture iPXE Farm boots.`, `Use one of ${CLIENT_ARCHES.join(', ')}.`);
  }
  await updateFarm(root, (raw) => {
    const clients = obj(raw.clients);
    if (opts.create && hasOwnName(clients, name)) throw new FarmError(`Client "${name}" already exists.`, `Change it with \`ipxe-farm client set ${name}\`.`, 'EEXIST');
    const c: Raw = { macs: [], vars: {}, ...obj(clients[name]) };
    if (fields.profile !== undefined) c.profile = fields.profile;
    if (fields.arch !== undefined) c.arch = fields.arch;
    if (macs) c.macs = macs;
    if (fields.vars && Object.keys(fields.vars).length) c.vars = { ...obj(c.vars), ...fields.vars };
    if (fields.description !== undefined) c.description = fields.description;
    raw.clients = { ...clients, [name]: c };
  }, servableCheck(root, opts));
}

export async function removeClient(root: string, name: string): Promise<void> {
  await updateFarm(root, (raw) => {
    const clients = obj(raw.clients);
    if (!hasOwnName(clients, name)) throw new FarmError(`There is no client "${name}".`, undefined, 'ENOENT');
    delete clients[name];
    raw.clients = clients;
  });
}
