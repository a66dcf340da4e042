import type { CertKind, CertRecord, PkiIndex } from '../../core/pki/light';
import { daysLeft, EXPIRING_DAYS, Shape } from './shape';

export type CertHealth = 'valid' | 'expiring' | 'expired' | 'revoked' | 'not-yet-valid';

export function certHealth(r: CertRecord, now: number): CertHealth {
  if (r.status === 'revoked') return 'revoked';
  if (Date.parse(r.notBefore) > now) return 'not-yet-valid';
  const left = daysLeft(r.notAfter, now);
  if (Date.parse(r.notAfter) <= now) return 'expired';
  return left < EXPIRING_DAYS ? 'expiring' : 'valid';
}

const GROUP_LABEL: Record<Exclude<CertKind, 'root'>, string> = {
  server: 'Server',
  client: 'Clients',
  codesign: 'Code signing',
  cross: 'Cross-signed',
  csr: 'Signed requests',
};
export const GROUP_ORDER: Array<Exclude<CertKind, 'root'>> = ['server', 'client', 'codesign', 'cross', 'csr'];

/** `AB:CD:…` for people; the index stores bare lowercase hex (nginx's form). */
export function colonHex(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

function when(r: CertRecord, health: CertHealth, now: number): string {
  const left = daysLeft(r.notAfter, now);
  switch (health) {
    case 'revoked': return `revoked${r.revokedAt ? ` ${r.revokedAt.slice(0, 10)}` : ''}`;
    case 'expired': return `expired ${-left} day${-left === 1 ? '' : 's'} ago`;
    case 'not-yet-valid': return `valid from ${r.notBefore.slice(0, 10)}`;
    default: return `${left} day${left === 1 ? '' : 's'} left`;
  }
}

const ICON: Record<CertHealth, [string, string | undefined]> = {
  valid: ['verified', 'testing.iconPassed'],
  expiring: ['warning', 'list.warningForeground'],
  expired: ['error', 'list.errorForeground'],
  revoked: ['circle-slash', 'disabledForeground'],
  'not-yet-valid': ['clock', 'list.warningForeground'],
};

export function certShape(r: CertRecord, now: number): Shape {
  const health = certHealth(r, now);
  const [icon, iconColor] = ICON[health];
  return {
    id: `cert:${r.serial}`,
    label: r.kind === 'root' ? `Root: ${r.subject}` : r.name,
    description: `#${r.serial} · ${when(r, health, now)}`,
    tooltip: [
      r.subject,
      `Kind: ${r.kind}   Serial: ${r.serial}   Status: ${health}`,
      `Valid: ${r.notBefore} → ${r.notAfter}`,
      r.revokedAt ? `Revoked: ${r.revokedAt}${r.revocationReason ? ` (${r.revocationReason})` : ''}` : undefined,
      `SHA-1:   ${colonHex(r.sha1)}`,
      `SHA-256: ${colonHex(r.sha256)}`,
      r.renews ? `Renews #${r.renews}` : undefined,
    ].filter(Boolean).join('\n'),
    // e.g. cert.client.expiring: menus match /^cert\./ for copy-fingerprint and /\.(valid|expiring)$/ for revoke.
    contextValue: `cert.${r.kind}.${health}`,
    icon,
    iconColor,
    collapsible: 'none',
    ref: { kind: 'cert', name: r.name, serial: r.serial },
    open: { file: `pki/${r.certFile}` },
  };
}

/** The CA tree: the current root first, then one group per kind that has certificates, newest first inside. */
export function caRoots(index: PkiIndex, now: number): Shape[] {
  const roots = index.records.filter((r) => r.kind === 'root');
  const out: Shape[] = roots.length === 0
    ? [{ id: 'ca:none', label: 'No CA yet', description: 'run Create CA', contextValue: 'ca.none', icon: 'shield', collapsible: 'none' }]
    : roots.map((r) => ({ ...certShape(r, now), contextValue: `cert.root.${certHealth(r, now)}`, icon: certHealth(r, now) === 'valid' ? 'shield' : ICON[certHealth(r, now)][0] }));
  for (const kind of GROUP_ORDER) {
    const members = index.records.filter((r) => r.kind === kind);
    if (members.length === 0) continue;
    const bad = members.filter((r) => { const h = certHealth(r, now); return h === 'expired' || h === 'expiring'; }).length;
    out.push({
      id: `group:${kind}`,
      label: GROUP_LABEL[kind],
      description: `${members.length}${bad ? ` · ${bad} expiring or expired` : ''}`,
      contextValue: `certGroup.${kind}`,
      icon: bad ? 'warning' : 'folder',
      iconColor: bad ? 'list.warningForeground' : undefined,
      collapsible: kind === 'client' && members.length > 50 ? 'collapsed' : 'expanded',
      ref: { kind: 'group', name: kind },
    });
  }
  return out;
}

export function caGroupChildren(index: PkiIndex, kind: CertKind, now: number): Shape[] {
  return index.records
    .filter((r) => r.kind === kind)
    .sort((a, b) => (a.name === b.name ? Date.parse(b.issuedAt) - Date.parse(a.issuedAt) : a.name.localeCompare(b.name)))
    .map((r) => certShape(r, now));
}

/** Certificates ending within `days` (or already ended), not revoked: the "show expiring" report. */
export function expiringCerts(index: PkiIndex, now: number, days = EXPIRING_DAYS): CertRecord[] {
  return index.records
    .filter((r) => r.status !== 'revoked' && daysLeft(r.notAfter, now) < days)
    .sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter));
}
