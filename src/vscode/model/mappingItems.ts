import type { Farm, Profile } from '../../core/farm/light';
import { Shape } from './shape';
import { profileOf } from '../../core/farm/light';

export const MASK = '••••••';

/**
 * A profile's command line for display: `{{secret.NAME}}` shows as ‹secret NAME›, and any secret *value* typed into
 * the template by hand is masked too (the tree is screen-shared and screenshotted; secrets must not be).
 */
export function maskCmdline(cmdline: string, secretValues: string[] = []): string {
  let out = cmdline.replace(/\{\{\s*secret\.([^}\s]+)\s*\}\}/g, (_m, n: string) => `‹secret ${n}›`);
  for (const v of [...secretValues].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(v).join(MASK);
  return out;
}

export function profileUsers(farm: Farm): Map<string, string[]> {
  const users = new Map<string, string[]>(Object.keys(farm.profiles).map((p) => [p, []]));
  for (const [name, c] of Object.entries(farm.clients)) {
    const p = profileOf(farm, c);
    if (p && users.has(p)) users.get(p)!.push(name);
  }
  return users;
}

export function profileShape(name: string, p: Profile, users: string[], isDefault: boolean): Shape {
  return {
    id: `profile:${name}`,
    label: name,
    description: `${users.length} client${users.length === 1 ? '' : 's'}${isDefault ? ' · default' : ''}${p.verify ? ' · imgverify' : ''}`,
    tooltip: p.description,
    contextValue: `profile${isDefault ? '.default' : ''}`,
    icon: p.verify ? 'workspace-trusted' : 'symbol-method',
    collapsible: 'collapsed',
    ref: { kind: 'profile', name },
    open: { file: 'ipxe-farm.json', pointer: `/profiles/${name}` },
  };
}

export function profileDetails(name: string, p: Profile, users: string[], secretValues: string[] = []): Shape[] {
  const row = (key: string, label: string, description: string, icon: string, extra: Partial<Shape> = {}): Shape => ({
    id: `profile:${name}:${key}`, label, description, icon, contextValue: `profileDetail.${key}`, collapsible: 'none', ref: { kind: 'detail', name }, ...extra,
  });
  const cmd = maskCmdline(p.cmdline, secretValues);
  const rows = [
    row('kernel', 'Kernel', p.kernel, 'file-binary'),
    ...p.initrds.map((i, n) => row(`initrd${n}`, p.initrds.length > 1 ? `Initrd ${n + 1}` : 'Initrd', i, 'file-zip')),
    row('cmdline', 'Command line', cmd || '(empty)', 'terminal', { tooltip: cmd }),
  ];
  if (p.extra.length) rows.push(row('extra', 'Extra lines', `${p.extra.length}`, 'list-unordered', { tooltip: p.extra.map((l) => maskCmdline(l, secretValues)).join('\n') }));
  rows.push(row('clients', 'Clients', users.length ? users.slice(0, 20).join(', ') + (users.length > 20 ? ` … +${users.length - 20}` : '') : 'none', 'vm', { tooltip: users.join('\n') }));
  return rows;
}

export function mappingRoots(farm: Farm): Shape[] {
  const users = profileUsers(farm);
  const names = Object.keys(farm.profiles).sort();
  if (names.length === 0) {
    return [{ id: 'profile:none', label: 'No boot profiles yet', description: 'add one under "profiles" in ipxe-farm.json', contextValue: 'profile.none', icon: 'info', collapsible: 'none', open: { file: 'ipxe-farm.json', pointer: '/profiles' } }];
  }
  const rows = names.map((n) => profileShape(n, farm.profiles[n]!, users.get(n)!, farm.defaultProfile === n));
  const orphans = Object.entries(farm.clients).filter(([, c]) => !(profileOf(farm, c))).map(([n]) => n);
  if (orphans.length) {
    rows.push({ id: 'profile:(none)', label: 'No profile', description: `${orphans.length} client${orphans.length === 1 ? '' : 's'} get no boot script`, tooltip: orphans.join('\n'), contextValue: 'profile.orphans', icon: 'warning', iconColor: 'list.warningForeground', collapsible: 'none' });
  }
  return rows;
}
