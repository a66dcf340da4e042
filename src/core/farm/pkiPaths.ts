import * as path from 'node:path';
import type { FarmLayout } from './layout';

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
    /** Highest serial handed out, written before a certificate is signed, so a crash never reuses a serial. */
    serialFile: path.join(dir, 'serial'),
    /** Copies still to make after the index was written (a crash between the two is finished on the next run). */
    journal: path.join(dir, '.pending.json'),
    /** Every certificate ever issued, by serial: renewals replace the named files, history stays here. */
    serialsDir: path.join(dir, 'issued', 'serials'),
    certBySerial: (serial: string) => path.join(dir, 'issued', 'serials', `${serial}.crt`),
    privateSerialsDir: path.join(dir, 'private', 'serials'),
    keyBySerial: (serial: string) => path.join(dir, 'private', 'serials', `${serial}.key`),
    /** Pre-generated leaf keys waiting to be issued (keyPool.ts): same tree and modes as issued keys. */
    spareDir: path.join(dir, 'private', 'spare'),
    clientsDir: path.join(dir, 'issued', 'clients'),
    clientKeysDir: path.join(dir, 'private', 'clients'),
    /** Certificates for external CSRs and cross-signed roots, by name. */
    csrCert: (name: string) => path.join(dir, 'issued', 'csr', `${name}.crt`),
    crossCert: (name: string) => path.join(dir, 'issued', 'cross', `${name}.crt`),
  };
}

export type PkiPaths = ReturnType<typeof pkiPaths>;
