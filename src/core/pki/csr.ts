import * as fsp from 'node:fs/promises';
import forge from 'node-forge';
import { FarmError } from '../errors';
import { type FarmHandle, type Farm, checkName } from '../farm/light';
import { buildCert, Issuer } from './build';
import { loadCa } from './ca';
import { certToPem, commonName, parseCertificate, pemBlocks } from './certs';
import { PassphraseOptions, serverNames } from './issue';
import { assertNameFree } from './names';
import { serialToDerHex } from './serial';
import { reserveSerial } from './store';
import { currentCert } from './certLookup';
import { assertWritable, commitIssued, pkiTransaction } from './txn';
import type { CertRecord } from './types';

/** Turn a CN into a file-safe record name ("Lab Switch 3" -> "lab-switch-3"). */
export function nameFromCn(cn: string): string {
  return cn.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '').slice(0, 63) || 'cert';
}

export interface SignCsrOptions extends PassphraseOptions {
  /** What the certificate is for: a client (clientAuth, default) or a server (serverAuth + the CSR's names). */
  profile?: 'client' | 'server';
  /** Record and file name; default derived from the CSR's CN. */
  name?: string;
  days?: number;
  /**
   * Server profile: names the certificate may carry besides the farm's own (server.address and server.names). A SAN
   * outside both is refused, so a CSR cannot slip in `*.example.com` unseen.
   */
  allowNames?: string[];
}

interface CsrExtension { name?: string; cA?: boolean; altNames?: Array<{ type: number; value?: string; ip?: string }> }

/** Parse and check a CSR: PEM, RSA, self-signature valid, not asking to be a CA. */
export function parseCsr(text: string, what: string): forge.pki.CertificateSigningRequest {
  const block = pemBlocks(text, 'CERTIFICATE REQUEST')[0] ?? pemBlocks(text, 'NEW CERTIFICATE REQUEST')[0];
  if (!block) throw new FarmError(`${what} is not a certificate request: no "BEGIN CERTIFICATE REQUEST" block.`, 'Pass the PEM CSR made by `openssl req -new`.', 'ECSR');
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(block.replace('NEW CERTIFICATE REQUEST', 'CERTIFICATE REQUEST').replace('NEW CERTIFICATE REQUEST', 'CERTIFICATE REQUEST'));
  } catch (err) {
    const msg = (err as Error).message;
    if (/OID is not RSA/i.test(msg)) throw new FarmError(`${what} is for a non-RSA key.`, 'iPXE Farm signs RSA keys only; make the CSR with an RSA key.', 'ECSR');
    throw new FarmError(`${what} is a malformed certificate request (${msg.replace(/\.$/, '')}).`, 'Make it again with `openssl req -new`.', 'ECSR');
  }
  let ok = false;
  try { ok = csr.verify(); } catch { ok = false; }
  if (!ok) throw new FarmError(`${what}: its signature does not verify, so whoever made it may not hold the key.`, 'Make the CSR again with the key it names.', 'ECSR');
  const exts = csrExtensions(csr);
  if (exts.some((e) => e.name === 'basicConstraints' && e.cA)) {
    throw new FarmError(`${what} asks for a CA certificate (basicConstraints CA:TRUE); the farm CA signs only end-entity certificates.`, 'Make the CSR without CA:TRUE.', 'ECSR');
  }
  return csr;
}

function csrExtensions(csr: forge.pki.CertificateSigningRequest): CsrExtension[] {
  const attr = csr.getAttribute({ name: 'extensionRequest' }) as { extensions?: CsrExtension[] } | null;
  return attr?.extensions ?? [];
}

/** Sign an external CSR (the key stays with its owner). The subject is kept; extensions are ours, never the CSR's. */
export async function signCsr(h: FarmHandle, csrText: string, opts: SignCsrOptions = {}): Promise<CertRecord> {
  const csr = parseCsr(csrText, 'The CSR');
  const cn = commonName(csr);
  if (!cn && !opts.name) throw new FarmError('The CSR has no common name (CN).', 'Make it with a CN, or pass --name NAME.', 'ECSR');
  const name = opts.name ?? nameFromCn(cn!);
  checkName('certificate', name);
  const profile = opts.profile ?? 'client';
  const altNames = profile === 'server' ? csrAltNames(csr, cn) : undefined;
  return pkiTransaction(h, async (t) => {
    const have = currentCert(t.index, 'csr', name);
    if (have) throw new FarmError(`A certificate named "${name}" was already signed from a CSR (serial ${have.serial}).`, 'Revoke it first, or pass --name NAME.', 'EEXIST');
    assertNameFree(t.index, t.farm, name, 'csr', `Pass --name NAME to record it under its own name (e.g. --name csr-${name}).`);
    if (altNames) checkServerNames(altNames, t.farm, opts.allowNames ?? []);
    await assertWritable([t.paths.dir, t.paths.issuedDir]);
    const ca = await loadCa(t.paths, opts.passphrase);
    const serial = await reserveSerial(t.paths, t.index);
    const cert = buildCert({
      profile, serialDerHex: serialToDerHex(serial), subject: csr.subject.attributes,
      publicKey: csr.publicKey as forge.pki.rsa.PublicKey,
      days: opts.days ?? (profile === 'server' ? t.farm.ca.serverDays : t.farm.ca.clientDays), altNames,
    }, ca);
    const [rec] = await commitIssued(t, [{ cert, kind: 'csr', name, certTo: t.paths.csrCert(name), extra: altNames ? { altNames } : undefined }], certToPem(ca.cert));
    return rec!;
  });
}

/** A server CSR's names: its DNS and IP SANs (nothing else is signed), or its CN when it has none. */
function csrAltNames(csr: forge.pki.CertificateSigningRequest, cn: string | undefined): string[] {
  const sans = csrExtensions(csr).find((e) => e.name === 'subjectAltName')?.altNames ?? [];
  const odd = sans.find((a) => a.type !== 2 && a.type !== 7);
  if (odd) throw new FarmError(`The CSR asks for a subject alternative name of type ${odd.type}; a server certificate carries DNS names and IP addresses only.`, 'Make the CSR with DNS: and IP: names only.', 'ECSR');
  const names = sans.map((a) => (a.type === 7 ? a.ip ?? '' : a.value ?? '')).filter(Boolean);
  if (names.length === 0 && cn) names.push(cn);
  return names;
}

const sameName = (n: string) => n.toLowerCase().replace(/\.$/, '');

/** Every SAN must be one of the farm's names or one the operator allowed by name. */
function checkServerNames(names: string[], farm: Farm, allow: string[]): void {
  const ok = new Set([...serverNames(farm), ...allow].map(sameName));
  const outside = names.filter((n) => !ok.has(sameName(n)));
  if (outside.length) {
    throw new FarmError(
      `The server CSR asks for ${outside.length === 1 ? 'a name' : 'names'} the farm does not serve: ${outside.join(', ')} (the farm's names: ${serverNames(farm).join(', ')}).`,
      `Nothing was signed; if you mean it, pass --allow-names ${outside.join(',')}.`,
      'ECSRNAMES',
    );
  }
}

export async function signCsrFile(h: FarmHandle, file: string, opts: SignCsrOptions = {}): Promise<CertRecord> {
  let text: string;
  try { text = await fsp.readFile(file, 'utf8'); } catch (err) {
    throw new FarmError(`Cannot read the CSR ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, 'Check the path.', 'ENOENT');
  }
  return signCsr(h, text, opts);
}

export interface CrossSignOptions extends PassphraseOptions {
  name?: string;
  days?: number;
}

/**
 * Cross-sign another root (the seed's `openssl ca -extensions cross -preserveDN -ss_cert ROOT.crt`): same subject and
 * public key, issued by the farm CA, so chains ending in that root are trusted through the farm's TRUST=.
 */
export async function crossSign(h: FarmHandle, rootCertText: string | Buffer, opts: CrossSignOptions = {}): Promise<CertRecord> {
  const foreign = parseCertificate(rootCertText, 'The certificate to cross-sign');
  let selfSigned = false;
  try { selfSigned = foreign.isIssuer(foreign) && foreign.verify(foreign); } catch { selfSigned = false; }
  if (!selfSigned) throw new FarmError('The certificate to cross-sign is not a self-signed root (its signature does not verify with its own key).', 'Pass the root CA certificate itself.', 'ECERT');
  const bc = foreign.getExtension('basicConstraints') as { cA?: boolean } | null;
  if (!bc?.cA) throw new FarmError('The certificate to cross-sign is not a CA (no basicConstraints CA:TRUE).', 'Only a root CA certificate can be cross-signed.', 'ECERT');
  const cn = commonName(foreign) ?? 'root';
  const name = opts.name ?? nameFromCn(cn);
  checkName('certificate', name);
  return pkiTransaction(h, async (t) => {
    const ca: Issuer = await loadCa(t.paths, opts.passphrase);
    const mine = ca.cert.generateSubjectKeyIdentifier().getBytes();
    if (foreign.generateSubjectKeyIdentifier().getBytes() === mine) throw new FarmError('That is the farm\'s own CA.', 'Pass another root.', 'EREFUSED');
    const have = currentCert(t.index, 'cross', name);
    if (have) throw new FarmError(`"${name}" is already cross-signed (serial ${have.serial}).`, 'Revoke it first, or pass --name NAME.', 'EEXIST');
    assertNameFree(t.index, t.farm, name, 'cross', 'Pass --name NAME to record it under its own name.');
    await assertWritable([t.paths.dir, t.paths.issuedDir]);
    const serial = await reserveSerial(t.paths, t.index);
    const cert = buildCert({
      profile: 'cross', serialDerHex: serialToDerHex(serial), subject: foreign.subject.attributes,
      publicKey: foreign.publicKey as forge.pki.rsa.PublicKey, days: opts.days ?? t.farm.ca.caDays,
    }, ca);
    const [rec] = await commitIssued(t, [{ cert, kind: 'cross', name, certTo: t.paths.crossCert(name) }], certToPem(ca.cert));
    return rec!;
  });
}
