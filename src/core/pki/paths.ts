import * as path from 'node:path';
import type { FarmLayout } from '../farm/layout';

/**
 * Every file of the farm's PKI. The CA key stays in pki/private and is read by src/core/pki only; everything else
 * (nginx config, image builds) refers to these paths.
 */
export function pkiPaths(layout: FarmLayout) {
  const dir = layout.pki;
  return {
    dir,
    privateDir: path.join(dir, 'private'),
    issuedDir: path.join(dir, 'issued'),
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'private', 'ca.key'),
    index: path.join(dir, 'index.json'),
    crlPem: path.join(dir, 'crl.pem'),
    crlDer: path.join(dir, 'crl.der'),
    serverCert: path.join(dir, 'issued', 'server.crt'),
    /** server.crt followed by ca.crt: iPXE's TRUST= holds only a fingerprint, so nginx must send the CA too. */
    serverChain: path.join(dir, 'issued', 'server-chain.crt'),
    serverKey: path.join(dir, 'private', 'server.key'),
    codesignCert: path.join(dir, 'issued', 'codesign.crt'),
    codesignKey: path.join(dir, 'private', 'codesign.key'),
    clientCert: (name: string) => path.join(dir, 'issued', 'clients', `${name}.crt`),
    clientKey: (name: string) => path.join(dir, 'private', 'clients', `${name}.key`),
  };
}

export type PkiPaths = ReturnType<typeof pkiPaths>;
