import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { FarmError } from '../errors';
import { writeFileAtomic } from '../fs/light';
import type { FarmHandle } from '../farm/light';
import { readCaCert } from './ca';
import { parseCertificate } from './certs';
import { buildDetachedSignature, digestFile } from './cms';
import { keyMatchesCert, nativeSigner, readPrivateKey } from './keys';
import { currentCert } from './certLookup';
import { readIndexFile } from './indexRead';

export interface SignFileOptions {
  /** Where to write the signature; default FILE.sig. */
  out?: string;
  /** Unused: the code-signing key is not encrypted (kept for a uniform API). */
  passphrase?: string;
}

/**
 * Sign a file (kernel, initrd, script) with the farm's code-signing certificate: detached CMS, no signed attributes,
 * DER, next to it as FILE.sig — what iPXE's `imgverify FILE FILE.sig` checks against the farm CA.
 */
export async function signFile(h: FarmHandle, file: string, opts: SignFileOptions = {}): Promise<string> {
  const paths = h.pki;
  const target = path.resolve(file);
  const out = path.resolve(opts.out ?? `${target}.sig`);
  const st = await fsp.stat(target).catch(() => undefined);
  if (!st || !st.isFile()) throw new FarmError(`${target} does not exist or is not a file.`, 'Give the path of the file to sign.', 'ENOENT');
  const index = await readIndexFile(paths.index);
  const rec = currentCert(index, 'codesign', 'codesign');
  if (!rec) throw new FarmError('This farm has no code-signing certificate.', 'Run `ipxe-farm issue codesign` first.', 'ENOCODESIGN');
  if (Date.parse(rec.notAfter) < Date.now()) {
    throw new FarmError(`The code-signing certificate expired on ${rec.notAfter.slice(0, 10)}.`, 'Run `ipxe-farm renew codesign`.', 'EEXPIRED');
  }
  // The record's own per-serial files never change, so a renewal running at the same time cannot pair a new key with
  // an old certificate here (the named codesign.crt/.key are replaced one after the other).
  const certFile = path.join(paths.dir, rec.certFile);
  const keyFile = rec.keyFile ? path.join(paths.dir, rec.keyFile) : paths.codesignKey;
  const cert = parseCertificate(await fsp.readFile(certFile), `The code-signing certificate ${certFile}`);
  const keyObject = readPrivateKey(await fsp.readFile(keyFile, 'utf8').catch(() => {
    throw new FarmError(`The code-signing key ${keyFile} is missing.`, 'Run `ipxe-farm renew codesign`.', 'ENOENT');
  }), keyFile);
  if (!keyMatchesCert(keyObject, cert)) {
    throw new FarmError(`The code-signing key ${keyFile} does not match ${certFile}.`, 'Run `ipxe-farm renew codesign`.', 'EKEYMISMATCH');
  }
  const ca = await readCaCert(paths);
  const digest = await digestFile(target);
  const der = buildDetachedSignature({ cert, key: nativeSigner(keyObject) }, digest, [ca]);
  await writeFileAtomic(out, Buffer.from(der, 'binary'), { mode: 0o644 });
  return out;
}
