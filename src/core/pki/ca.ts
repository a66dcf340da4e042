import * as fsp from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { FarmError } from '../errors';
import { parseCertificate } from './certs';
import { keyMatchesCert, nativeSigner, readPrivateKey } from './keys';
import type { PkiPaths } from './paths';
import type { Issuer } from './build';

export interface LoadedCa extends Issuer {
  keyObject: KeyObject;
}

export async function readCaCert(paths: PkiPaths): Promise<forge.pki.Certificate> {
  let pem: string;
  try { pem = await fsp.readFile(paths.caCert, 'utf8'); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FarmError(`This farm has no CA yet (${paths.caCert} is missing).`, 'Run `ipxe-farm ca init` first.', 'ENOCA');
    }
    throw new FarmError(`Cannot read ${paths.caCert}: ${(err as Error).message}.`);
  }
  return parseCertificate(pem, `The CA certificate ${paths.caCert}`);
}

/** The CA, ready to sign: certificate and key present, the key matching, the certificate in its validity period. */
export async function loadCa(paths: PkiPaths, passphrase?: string, now = new Date()): Promise<LoadedCa> {
  const cert = await readCaCert(paths);
  let pem: string;
  try { pem = await fsp.readFile(paths.caKey, 'utf8'); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FarmError(`The CA key ${paths.caKey} is missing, so this farm cannot sign.`, 'Restore it from your backup (it is never in git).', 'ENOCA');
    }
    throw new FarmError(`Cannot read the CA key ${paths.caKey}: ${(err as Error).message}.`);
  }
  const keyObject = readPrivateKey(pem, paths.caKey, passphrase);
  if (!keyMatchesCert(keyObject, cert)) {
    throw new FarmError(`The CA key ${paths.caKey} does not match the CA certificate ${paths.caCert}.`, 'Put back the key that belongs to ca.crt.', 'EKEYMISMATCH');
  }
  if (cert.validity.notAfter < now) {
    throw new FarmError(
      `The CA certificate expired on ${cert.validity.notAfter.toISOString().slice(0, 10)}; nothing it signs would be trusted.`,
      'Create a new CA in a new farm (`ipxe-farm ca init`) and re-issue the certificates.',
      'ECAEXPIRED',
    );
  }
  if (cert.validity.notBefore > now) {
    throw new FarmError(`The CA certificate is not valid before ${cert.validity.notBefore.toISOString()}: this machine's clock is behind.`, 'Fix the clock (NTP) and try again.', 'ECLOCK');
  }
  return { cert, key: nativeSigner(keyObject), keyObject };
}
