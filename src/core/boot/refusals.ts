import type { Client, FarmIssue } from '../farm/light';
import type { BootIssue } from './check';

/**
 * What the farm file as it is now cannot boot, and why: a problem in one client's or one profile's mapping refuses
 * only the machines it concerns, with its own words, and every other client keeps being served. Problems that belong
 * to no client or profile (the server settings, a file that is not JSON) are `global`: the service then keeps the last
 * good farm file's mappings (BootState).
 */
export interface MappingRefusals {
  clients: Map<string, string>;
  profiles: Map<string, string>;
  /** The farm's defaultProfile itself is wrong: clients without a profile of their own are refused. */
  defaultProfile?: string;
  /** A certificate without a /clients entry cannot boot the default profile (it uses {{client.vars.…}}). */
  unlisted?: string;
}

export const NO_REFUSALS: MappingRefusals = { clients: new Map(), profiles: new Map() };

function first(issues: FarmIssue[]): string {
  const msg = issues[0]!.message.replace(/\.$/, '');
  return issues.length > 1 ? `${msg} (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : msg;
}

function add(map: Map<string, FarmIssue[]>, name: string, issue: FarmIssue): void {
  const list = map.get(name);
  if (list) list.push(issue); else map.set(name, [issue]);
}

/** Sort errors by what they belong to; warnings are left out (they refuse nothing). */
export function attributeIssues(issues: BootIssue[]): { refusals: MappingRefusals; global: FarmIssue[] } {
  const clients = new Map<string, FarmIssue[]>();
  const profiles = new Map<string, FarmIssue[]>();
  const defaults: FarmIssue[] = [];
  const unlisted: FarmIssue[] = [];
  const global: FarmIssue[] = [];
  for (const i of issues) {
    if (i.severity !== 'error') continue;
    const [, section, name] = i.pointer.split('/');
    if (section === 'clients' && name) add(clients, name, i);
    else if (section === 'profiles' && name) add(profiles, name, i);
    else if (i.pointer === '/defaultProfile') (i.message.includes('{{client.vars.') ? unlisted : defaults).push(i);
    else global.push(i);
  }
  const says = (m: Map<string, FarmIssue[]>) => new Map([...m].map(([n, list]) => [n, first(list)]));
  return {
    refusals: {
      clients: says(clients),
      profiles: says(profiles),
      defaultProfile: defaults.length ? first(defaults) : undefined,
      unlisted: unlisted.length ? first(unlisted) : undefined,
    },
    global,
  };
}

/** Why this client cannot boot `profile` with the farm file as it is now, or undefined when it can. */
export function mappingRefusal(r: MappingRefusals, client: string, entry: Client | undefined, profile: string | undefined): string | undefined {
  const own = r.clients.get(client);
  if (own !== undefined) return `the boot mapping of client ${client} is broken: ${own}`;
  if (!entry?.profile && r.defaultProfile !== undefined) return `client ${client} boots the default profile, which is broken: ${r.defaultProfile}`;
  if (!entry && r.unlisted !== undefined) return `client ${client} is not listed under /clients and the default profile cannot boot it: ${r.unlisted}`;
  const p = profile === undefined ? undefined : r.profiles.get(profile);
  if (p !== undefined) return `profile ${profile} of client ${client} is broken: ${p}`;
  return undefined;
}

/** The service log's words for what the farm file cannot boot now. */
export function describeRefusals(r: MappingRefusals): string[] {
  return [
    ...[...r.profiles].map(([n, why]) => `profile ${n} cannot boot (its clients are refused until it is fixed): ${why}`),
    ...[...r.clients].map(([n, why]) => `client ${n} is refused until its mapping is fixed: ${why}`),
    ...(r.defaultProfile ? [`clients without a profile of their own are refused: ${r.defaultProfile}`] : []),
    ...(r.unlisted ? [`certificates without a /clients entry are refused: ${r.unlisted}`] : []),
  ];
}
