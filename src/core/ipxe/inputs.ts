import * as fsp from 'node:fs/promises';
import { FarmError } from '../errors';
import { type FarmLayout, checkName } from '../farm/light';
import { pkiPaths, readPkiIndex } from '../pki/light';
import { certDer, certSerial, certToPem, fingerprints, parseCertificate, keyMatchesCert, readPrivateKey } from '../pki';

/** What a client's image is made from, read and checked before any make runs. */
export interface BuildInputs {
  caPem: string;
  certPem: string;
  /** PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"): the form every iPXE version reads as PRIVKEY=. */
  keyPem: string;
  certSerial: string;
  certSha256: string;
  certNotAfter: string;
  caSha256: string;
  /** Reasons the image will be refused at boot although it can be built (revoked, expired). */
  warnings: string[];
}

async function readText(file: string, missing: () => FarmError): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missing();
    throw new FarmError(`Cannot read ${file}: ${(err as Error).message}.`, undefined, 'EIO');
  }
}

export async function readBuildInputs(layout: FarmLayout, client: string): Promise<BuildInputs> {
  checkName('client', client);
  const p = pkiPaths(layout);
  const caText = await readText(p.caCert, () => new FarmError(`The farm has no CA yet (${p.caCert} is missing).`, 'Create it with `ipxe-farm ca init`, then issue the client certificate.', 'ENOCA'));
  const certText = await readText(p.clientCert(client), () => new FarmError(`Client ${client} has no certificate (${p.clientCert(client)} is missing).`, `Issue one with \`ipxe-farm issue client ${client}\`, then build again.`, 'ENOCERT'));
  const keyText = await readText(p.clientKey(client), () => new FarmError(`Client ${client} has a certificate but no key (${p.clientKey(client)} is missing).`, `Re-issue it with \`ipxe-farm issue client ${client}\`.`, 'ENOKEY'));
  const ca = parseCertificate(caText, p.caCert);
  const cert = parseCertificate(certText, p.clientCert(client));
  const key = readPrivateKey(keyText, p.clientKey(client));
  if (!keyMatchesCert(key, cert)) {
    throw new FarmError(`The key ${p.clientKey(client)} does not belong to the certificate ${p.clientCert(client)}.`, `Re-issue the client with \`ipxe-farm issue client ${client}\`.`, 'EKEYMISMATCH');
  }
  const caDer = certDer(ca);
  const der = certDer(cert);
  const certSha256 = fingerprints(der).sha256;
  const warnings: string[] = [];
  const index = await readPkiIndex(layout.root).catch(() => undefined);
  const rec = index?.records.find((r) => r.sha256 === certSha256);
  if (rec?.status === 'revoked') warnings.push(`${client}'s certificate (serial ${rec.serial}) is revoked: nginx will refuse this image. Issue a new certificate and rebuild.`);
  if (cert.validity.notAfter.getTime() < Date.now()) warnings.push(`${client}'s certificate expired on ${cert.validity.notAfter.toISOString()}: renew it and rebuild.`);
  return {
    caPem: certToPem(ca),
    certPem: certToPem(cert),
    keyPem: key.export({ type: 'pkcs1', format: 'pem' }) as string,
    certSerial: certSerial(cert),
    certSha256,
    certNotAfter: cert.validity.notAfter.toISOString(),
    caSha256: fingerprints(caDer).sha256,
    warnings,
  };
}
