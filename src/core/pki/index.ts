/**
 * The farm's certificate authority, all with node-forge (keys from Node's native generator): root CA, server,
 * client and code-signing certificates, file signatures for imgverify, CSR signing, cross-signing, revocation + CRL,
 * renewal and the expiry report. Other modules read the PKI index through readPkiIndex and the lookup helpers.
 * fillKeyPool keeps pre-generated leaf keys in pki/private/spare (see keyPool.ts for why that is safe); the editor calls
 * it when idle, so that issuing a certificate does not wait for key generation.
 */
export type { CertKind, CertRecord, CertStatus, PkiIndex } from './types';
export { pkiPaths, type PkiPaths } from './paths';
export { readPkiIndex } from './indexRead';
export { findByFingerprint, findBySerial, currentCert, CertLookup } from './certLookup';
export { initCa, issueServer, issueClient, issueClients, issueCodesign, renew, serverNames, type PassphraseOptions, type InitCaOptions, type IssueOptions, type LeafKeyMode } from './issue';
export { fillKeyPool, keyPoolStatus, keyPoolSettled, SPARE_TARGET, type KeyPoolStatus, type FillKeyPoolOptions } from './keyPool';
export { revoke, writeCrl, type RevokeOptions } from './revoke';
export { signFile, type SignFileOptions } from './sign';
export { signCsr, signCsrFile, crossSign, type SignCsrOptions, type CrossSignOptions } from './csr';
export { expiryReport, type ExpiryReport, type ExpiryEntry } from './expiry';
export { REVOCATION_REASONS, readCrlInfo, type CrlInfo } from './crl';
export { crlStatus } from './expiry';
export { serialToNginx, parseSerial, normaliseSerial } from './serial';
export { isEncryptedKeyPem } from './keys';
export { certDer, certSerial, certToPem, fingerprints, parseCertificate } from './certs';
export { keyMatchesCert, readPrivateKey } from './keys';
