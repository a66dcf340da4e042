/** The pki part of the core cheap enough for the editor to load at activation: no node-forge, no child processes (the arch test checks). */
export { readPkiIndex } from './indexRead';
export { pkiPaths } from './paths';
export type { CertKind, CertRecord, PkiIndex } from './types';
export { CertLookup } from './certLookup';
export { emptyIndex, readIndexFile } from './indexRead';
