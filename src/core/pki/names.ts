import { FarmError } from '../errors';
import type { Farm } from '../farm/light';
import type { CertKind, PkiIndex } from './types';

/**
 * One name, one live certificate, whatever its kind: `revoke NAME` and `renew NAME` must never have to guess whether
 * "dut1" means the client or a certificate signed from a CSR whose CN happened to be dut1.
 */

const KIND_WORDS: Record<CertKind, string> = {
  root: 'root CA', server: 'server', client: 'client', codesign: 'code-signing', cross: 'cross-signed root', csr: 'CSR-signed',
};

/** The names the farm's own certificates always have. */
const RESERVED: Partial<Record<string, CertKind>> = { root: 'root', server: 'server', codesign: 'codesign' };

/** Throws when `name` already belongs to a live certificate of another kind, to a farm-file client, or to the farm itself. */
export function assertNameFree(index: PkiIndex, farm: Farm, name: string, kind: CertKind, fix: string): void {
  const reserved = Object.hasOwn(RESERVED, name) ? RESERVED[name] : undefined;
  if (reserved && reserved !== kind) {
    throw new FarmError(`"${name}" is the name of the farm's ${KIND_WORDS[reserved]} certificate; names are unique across kinds.`, fix, 'EEXIST');
  }
  const other = index.records.find((r) => r.status === 'valid' && r.name === name && r.kind !== kind);
  if (other) {
    throw new FarmError(
      `"${name}" is already the name of ${KIND_WORDS[other.kind]} certificate serial ${other.serial}; names are unique across kinds, so revoke and renew always know which one you mean.`,
      fix,
      'EEXIST',
    );
  }
  if (kind !== 'client' && Object.hasOwn(farm.clients, name)) {
    throw new FarmError(`"${name}" is a client in ipxe-farm.json; a ${KIND_WORDS[kind]} certificate may not take a client's name.`, fix, 'EEXIST');
  }
}
