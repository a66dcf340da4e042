import type { Client, Farm } from '../../core/farm/light';
import type { ClientHealth } from '../../core/verdict/light';
import { clientArch } from '../../core/farm/light';
import type { CertRecord, PkiIndex } from '../../core/pki/light';
import { certHealth } from './certItems';
import { daysLeft, Shape } from './shape';
import { profileOf } from '../../core/farm/light';

/** The newest boot-service event of a client (the shape of src/core/boot's BootEvent that the tree shows). */
export interface LastBoot {
  time: string;
  status: number;
  path: string;
  profile?: string;
  reason?: string;
}

/** Core's verdict (src/core/ipxe imageState), or "checking" while it is being worked out in the background. */
export type ImageState = 'built' | 'stale' | 'missing' | 'checking';

/** Everything a row needs, looked up once per refresh; rows themselves are shaped only when VS Code asks for them. */
export interface ClientsView {
  farm: Farm;
  /** client name → its current certificate (newest not revoked, else newest). */
  certs: Map<string, CertRecord>;
  lastBoots: Record<string, LastBoot>;
  images: (client: string) => ImageState;
  /** Why the image is stale or missing and which target was looked at (core's reasons); absent in plain tests. */
  imageDetail?: (client: string) => { reasons: string[]; target?: string };
  /** Boot health from the recorded verdicts (`ipxe-farm boot`/`train`); absent for clients never judged. */
  health?: Record<string, ClientHealth>;
  now: number;
}

function healthText(h: ClientHealth | undefined): string | undefined {
  if (!h || h.state === 'untested') return undefined;
  return `${h.state} ${h.passed}/${h.boots}`;
}

export function clientCertMap(index: PkiIndex): Map<string, CertRecord> {
  const out = new Map<string, CertRecord>();
  for (const r of index.records) {
    if (r.kind !== 'client') continue;
    const have = out.get(r.name);
    // A valid certificate beats a revoked one; among equals, the newest serial wins.
    const better = !have
      || (have.status === 'revoked' && r.status === 'valid')
      || (have.status === r.status && BigInt(`0x${r.serial}`) > BigInt(`0x${have.serial}`));
    if (better) out.set(r.name, r);
  }
  return out;
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129_600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/**
 * One client row. contextValue carries what menus need without a lookup: `client.cert.image-built`, `client.nocert…`.
 * The inline play button (launch QEMU) shows on every client; Build and Issue show by state.
 */
export function clientShape(name: string, v: ClientsView): Shape {
  const c = v.farm.clients[name]!;
  const cert = v.certs.get(name);
  const health = cert ? certHealth(cert, v.now) : undefined;
  const image = v.images(name);
  const boot = v.lastBoots[name];
  const profile = profileOf(v.farm, c);
  const bits = [clientArch(v.farm, name), profile ?? 'no profile', image === 'built' ? undefined : image === 'checking' ? 'image checking…' : `image ${image}`];
  if (!cert) bits.push('no certificate');
  else if (health !== 'valid') bits.push(`certificate ${health}`);
  if (boot) bits.push(`${boot.status === 200 ? 'booted' : `refused ${boot.status}`} ${ago(boot.time, v.now)}`);
  const h = v.health?.[name];
  bits.push(healthText(h));
  const problem = !cert || health === 'revoked' || health === 'expired';
  return {
    id: `client:${name}`,
    label: name,
    description: bits.filter(Boolean).join(' · '),
    tooltip: [
      c.description,
      `MACs: ${c.macs.join(', ') || 'none'}`,
      `Architecture: ${clientArch(v.farm, name)}${c.arch ? '' : ' (farm default)'}`,
      `Profile: ${profile ?? 'none'}`,
      cert ? `Certificate #${cert.serial}, ${health}, until ${cert.notAfter.slice(0, 10)}` : 'No client certificate: Issue Client Certificate',
      imageLine(name, image, v),
      boot ? `Last boot: ${boot.time} → ${boot.status} ${boot.path}${boot.reason ? ` (${boot.reason})` : ''}` : 'Never booted',
      h?.lastFailure ? `Last failed verdict: ${h.lastFailure.at}: ${h.lastFailure.reason}` : undefined,
    ].filter(Boolean).join('\n'),
    contextValue: `client.${cert && !problem ? 'cert' : 'nocert'}.image-${image}`,
    icon: problem ? 'vm-outline' : image === 'built' ? 'vm-active' : 'vm',
    iconColor: problem ? 'list.warningForeground' : undefined,
    collapsible: 'collapsed',
    ref: { kind: 'client', name },
    open: { file: 'ipxe-farm.json', pointer: `/clients/${name}` },
  };
}

function imageLine(name: string, image: ImageState, v: ClientsView): string {
  const d = v.imageDetail?.(name);
  const head = `Image${d?.target ? ` (${d.target})` : ''}: ${image}`;
  return image === 'built' || !d?.reasons.length ? head : `${head} — ${d.reasons.join(' ')}`;
}

function imageRow(name: string, v: ClientsView, row: (key: string, label: string, description: string, icon: string, extra?: Partial<Shape>) => Shape): Shape {
  const image = v.images(name);
  const d = v.imageDetail?.(name);
  const why = image === 'built' ? '' : d?.reasons[0] ?? '';
  const description = `${d?.target ? `${d.target} ` : ''}${image}${why ? ` · ${why}` : ''}`;
  return row('image', 'Image', description, 'package', { contextValue: `clientDetail.image-${image}`, tooltip: imageLine(name, image, v) });
}

/** The rows under a client, built only when it is expanded. */
export function clientDetails(name: string, v: ClientsView): Shape[] {
  const c: Client = v.farm.clients[name]!;
  const cert = v.certs.get(name);
  const boot = v.lastBoots[name];
  const profile = profileOf(v.farm, c);
  const row = (key: string, label: string, description: string, icon: string, extra: Partial<Shape> = {}): Shape => ({
    id: `client:${name}:${key}`, label, description, icon, contextValue: `clientDetail.${key}`, collapsible: 'none', ref: { kind: 'detail', name }, ...extra,
  });
  const health = cert ? certHealth(cert, v.now) : undefined;
  return [
    cert
      ? row('cert', 'Certificate', `#${cert.serial} · ${health} · ${daysLeft(cert.notAfter, v.now)} days left`, 'key', {
        tooltip: `SHA-1 ${cert.sha1}\nSHA-256 ${cert.sha256}`, contextValue: `clientDetail.cert.${health}`, ref: { kind: 'cert', name, serial: cert.serial },
      })
      : row('cert', 'Certificate', 'none yet', 'key', { contextValue: 'clientDetail.nocert' }),
    row('macs', 'MACs', c.macs.join(', ') || 'none (identified by certificate only)', 'plug'),
    row('arch', 'Architecture', `${clientArch(v.farm, name)}${c.arch ? '' : ' (farm default)'}`, 'chip'),
    row('profile', 'Profile', profile ? `${profile}${c.profile ? '' : ' (default)'}` : 'none', 'symbol-method', profile ? { ref: { kind: 'profile', name: profile } } : {}),
    row('boot', 'Last boot', boot ? `${boot.time.replace('T', ' ').slice(0, 19)} → ${boot.status} ${boot.path}` : 'never', 'history'),
    imageRow(name, v, row),
    ...(healthText(v.health?.[name]) ? [row('health', 'Boot health', `${healthText(v.health?.[name])}${v.health![name]!.lastFailure ? ` · last failure: ${v.health![name]!.lastFailure!.reason}` : ''}`, 'pulse')] : []),
  ];
}

/** Client names in display order; the tree asks for this once per refresh, then shapes rows on demand. */
export function clientNames(farm: Farm): string[] {
  return Object.keys(farm.clients).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}
