import { FarmError, UsageError } from '../errors';
import { loadCa } from './ca';
import { REVOCATION_REASONS } from './crl';
import { resolveTarget, PassphraseOptions } from './issue';
import { writeIndex } from './store';
import { markRevoked, pkiIndexTransaction, publishCrl } from './txn';
import type { CertRecord } from './types';

export interface RevokeOptions extends PassphraseOptions {
  /** One of REVOCATION_REASONS' names; default unspecified. */
  reason?: string;
}

/**
 * Revoke by name or serial and republish the CRL. The CRL is written before the index: a crash in between leaves a
 * certificate refused by nginx but still listed as valid (revoking again finishes the job), never the reverse.
 */
export async function revoke(root: string, nameOrSerial: string, opts: RevokeOptions = {}): Promise<CertRecord> {
  const reason = opts.reason ?? 'unspecified';
  if (!Object.hasOwn(REVOCATION_REASONS, reason)) {
    throw new UsageError(`"${reason}" is not a revocation reason.`, `Use one of: ${Object.keys(REVOCATION_REASONS).join(', ')}.`);
  }
  return pkiIndexTransaction(root, async (t) => {
    const rec = resolveTarget(t.index.records, nameOrSerial);
    if (rec.kind === 'root') {
      throw new FarmError('The root CA cannot be revoked by its own CRL.', 'To retire it, create a new farm CA and re-issue.', 'EREFUSED');
    }
    const ca = await loadCa(t.paths, opts.passphrase);
    markRevoked(rec, reason);
    await publishCrl(t, ca);
    await writeIndex(t.paths, t.index);
    return rec;
  });
}

/** Republish the CRL (e.g. before the current one reaches its nextUpdate). */
export async function writeCrl(root: string, opts: PassphraseOptions = {}): Promise<void> {
  await pkiIndexTransaction(root, async (t) => {
    const ca = await loadCa(t.paths, opts.passphrase);
    await publishCrl(t, ca);
    await writeIndex(t.paths, t.index);
  });
}
