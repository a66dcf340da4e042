import { type Client, type Farm, normaliseMac, own, profileOf } from '../farm/light';
import type { CertRecord, CertLookup } from '../pki/light';
import { mappingRefusal, MappingRefusals, NO_REFUSALS } from './refusals';

/** What nginx tells the boot service about the TLS client (X-SSL-Client-* headers) and what the path asked for. */
export interface BootIdentity {
  verify?: string;
  fingerprint?: string;
  serial?: string;
  /** The MAC of `/ipxe/<mac>`, as written in the path. */
  mac?: string;
}

export type BootDecision =
  | {
      ok: true;
      client: string;
      clientEntry?: Client;
      profile: string;
      profileFrom: 'client' | 'default';
      matchedBy: 'fingerprint' | 'serial';
      mac?: string;
      cert: CertRecord;
      steps: string[];
    }
  | { ok: false; reason: string; client?: string; cert?: CertRecord; steps: string[] };

/**
 * Choose the client and profile for a request. The certificate decides who the machine is — a MAC in the path can only
 * narrow that down to one of the client's own MACs, never select another client — and the most specific mapping wins:
 * the client's own profile, then the farm's default profile. Every step is recorded, so `ipxe-farm explain` and the
 * boot log tell the same story the service acted on.
 */
export function selectBoot(farm: Farm, certs: CertLookup, id: BootIdentity, now = new Date(), refusals: MappingRefusals = NO_REFUSALS): BootDecision {
  const steps: string[] = [];
  const refuse = (reason: string, extra: { client?: string; cert?: CertRecord } = {}): BootDecision => {
    steps.push(`refused: ${reason}`);
    return { ok: false, reason, steps, ...extra };
  };

  if (id.verify === undefined) return refuse('the request did not come through the farm\'s nginx (no X-SSL-Client-Verify header)');
  if (id.verify !== 'SUCCESS') {
    const why = id.verify === 'NONE' ? 'no client certificate was presented' : `nginx could not verify the client certificate (${id.verify})`;
    return refuse(why);
  }
  steps.push('nginx verified the client certificate against the farm CA');
  if (certs.problem) return refuse(certs.problem);

  let cert: CertRecord | undefined;
  let matchedBy: 'fingerprint' | 'serial';
  if (id.fingerprint) {
    matchedBy = 'fingerprint';
    cert = certs.byFingerprint(id.fingerprint);
    if (!cert) return refuse(`certificate SHA-1 ${id.fingerprint.toLowerCase()} is not in the farm's PKI index`);
    steps.push(`certificate SHA-1 ${cert.sha1} is serial ${cert.serial} ("${cert.name}")`);
  } else if (id.serial) {
    matchedBy = 'serial';
    cert = certs.bySerialNumber(id.serial);
    if (!cert) return refuse(`certificate serial ${id.serial.toUpperCase()} is not in the farm's PKI index`);
    steps.push(`certificate serial ${cert.serial} is "${cert.name}" (no fingerprint header; matched by serial)`);
  } else {
    return refuse('nginx passed neither X-SSL-Client-Fingerprint nor X-SSL-Client-Serial');
  }

  if (cert.kind !== 'client') return refuse(`certificate serial ${cert.serial} is a ${cert.kind} certificate, not a client's`, { cert });
  if (cert.status === 'revoked') {
    return refuse(`certificate serial ${cert.serial} of client ${cert.name} was revoked${cert.revokedAt ? ` on ${cert.revokedAt.slice(0, 10)}` : ''}`, { client: cert.name, cert });
  }
  const notAfter = Date.parse(cert.notAfter);
  if (Number.isFinite(notAfter) && notAfter < now.getTime()) {
    return refuse(`certificate serial ${cert.serial} of client ${cert.name} expired on ${cert.notAfter.slice(0, 10)}`, { client: cert.name, cert });
  }
  const clientName = cert.name;
  const entry = own(farm.clients, clientName);

  let mac: string | undefined;
  if (id.mac !== undefined) {
    mac = normaliseMac(id.mac);
    if (!mac) return refuse(`"${id.mac}" is not a MAC address`, { client: clientName, cert });
    if (!entry?.macs.includes(mac)) {
      return refuse(`MAC ${mac} is not one of client ${clientName}'s MACs, and a certificate only boots its own machine`, { client: clientName, cert });
    }
    steps.push(`MAC ${mac} belongs to client ${clientName}`);
  }

  // The farm file as it is now cannot boot this machine: refuse with its reason, never an older script.
  const broken = mappingRefusal(refusals, clientName, entry, profileOf(farm, entry));
  if (broken) return refuse(broken, { client: clientName, cert });

  if (entry?.profile) {
    steps.push(`client ${clientName} boots profile ${entry.profile} (set on the client)`);
    return { ok: true, client: clientName, clientEntry: entry, profile: entry.profile, profileFrom: 'client', matchedBy, mac, cert, steps };
  }
  if (farm.defaultProfile) {
    steps.push(`client ${clientName} has no profile of its own${entry ? '' : ' (not listed under /clients)'}: default profile ${farm.defaultProfile}`);
    return { ok: true, client: clientName, clientEntry: entry, profile: farm.defaultProfile, profileFrom: 'default', matchedBy, mac, cert, steps };
  }
  const why = entry
    ? `client ${clientName} has no profile and the farm has no default profile: ipxe-farm client set ${clientName} --profile NAME`
    : `client ${clientName} is not in the farm (its certificate is valid but it has no boot mapping) and the farm has no default profile: ipxe-farm client set ${clientName} --profile NAME`;
  return refuse(why, { client: clientName, cert });
}
