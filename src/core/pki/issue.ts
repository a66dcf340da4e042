import * as os from 'node:os';
import * as path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { FarmError, UsageError } from '../errors';
import { exists } from '../fs/light';
import { type FarmHandle, checkName, type Farm } from '../farm/light';
import { buildCert, Profile, subjectFields } from './build';
import { loadCa, LoadedCa } from './ca';
import { certToPem } from './certs';
import { caKeyPem, KeyBits, nativeSigner, newRsaKey, toForgePublicKey } from './keys';
import { assertNameFree } from './names';
import { claimSpareKey, raceForKey, spareNames, type KeyRace } from './keyPool';
import type { PkiPaths } from './paths';
import { parseSerial, serialToDerHex, serialToNginx } from './serial';
import { beginIndexWrite, PendingIndexWrite, reserveSerial } from './store';
import { currentCert, findBySerial } from './certLookup';
import { assertWritable, commitIssued, Issued, markRevoked, pkiTransaction, PkiTxn, publishCrl } from './txn';
import type { CertKind, CertRecord, PkiIndex } from './types';

export interface PassphraseOptions {
  /** The CA key's passphrase, when it was created with one. */
  passphrase?: string;
}

/**
 * Where the key of a single-key issuance comes from: 'pool' (default) claims a spare from pki/private/spare and, when
 * there is none, races two generations if a core is free for the second (else makes one); 'race' always races,
 * without looking at the pool; 'fresh' makes one key and leaves the pool alone (renewals, and the path before the pool
 * existed). Batches always generate in parallel.
 */
export type LeafKeyMode = 'pool' | 'race' | 'fresh';

export interface IssueOptions extends PassphraseOptions {
  keys?: LeafKeyMode;
}

export interface InitCaOptions extends PassphraseOptions {
  /** Override farm.ca.keyBits. */
  keyBits?: KeyBits;
}

/** The server certificate's names: farm.server.address first, then farm.server.names, without repeats. */
export function serverNames(farm: Farm): string[] {
  return [...new Set([farm.server.address, ...farm.server.names].map((n) => n.trim()).filter(Boolean))];
}

export function subjectFor(farm: Farm, cn: string) {
  return subjectFields({ commonName: cn, organization: farm.ca.organization, country: farm.ca.country });
}

/** Create the farm's root CA: key (PKCS#8, encrypted with a passphrase if given), ca.crt, the index, an empty CRL. */
export async function initCa(h: FarmHandle, opts: InitCaOptions = {}): Promise<CertRecord> {
  return pkiTransaction(h, async (t) => {
    const bits = opts.keyBits ?? t.farm.ca.keyBits;
    if (![2048, 3072, 4096].includes(bits)) throw new UsageError(`A CA key of ${bits} bits is not supported.`, 'Use 2048, 3072 or 4096.');
    if ((await exists(t.paths.caCert)) || currentCert(t.index, 'root')) {
      throw new FarmError(`This farm already has a CA (${t.paths.caCert}); creating another would orphan every issued certificate.`, 'Keep it, or start a new farm.', 'EEXIST');
    }
    if (opts.passphrase !== undefined && opts.passphrase.length < 4) {
      throw new FarmError('The CA passphrase is too short.', 'Use at least 4 characters.', 'EPASSPHRASE');
    }
    await assertWritable([t.paths.dir, t.paths.privateDir, t.paths.issuedDir]);
    const key = await newRsaKey(bits);
    const serial = await reserveSerial(t.paths, t.index);
    const signer = nativeSigner(key);
    const cert = buildCert(
      { profile: 'root', serialDerHex: serialToDerHex(serial), subject: subjectFields(t.farm.ca), publicKey: toForgePublicKey(key), days: t.farm.ca.caDays },
      undefined,
      signer,
    );
    const item: Issued = { cert, kind: 'root', name: 'root', key, keyPem: caKeyPem(key, opts.passphrase), certTo: t.paths.caCert, keyTo: t.paths.caKey };
    // The first CRL (empty) is published with the CA, so nginx's ssl_crl has a file from the start.
    const [rec] = await commitIssued(t, [item], certToPem(cert), (_index) => publishCrl(t, { cert, key: signer }));
    return rec!;
  });
}

interface LeafRequest {
  kind: CertKind;
  profile: Profile;
  name: string;
  cn: string;
  days: number;
  altNames?: string[];
  certTo: string;
  keyTo: string;
  chainTo?: string;
  /** The record this one replaces: revoked as superseded in the same index write. */
  supersedes?: CertRecord;
}

function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined); // a refusal before anyone awaits must not become an unhandled rejection
  return p;
}

/**
 * Whether a second generation would run on an otherwise idle core. On a saturated machine two generations only share
 * the same cores: measured on 2 cores at load average 3.4-3.5, the first of two took a median 244-258 ms against
 * 201 ms for one key (and 135 against 208 on a quieter machine, where the race pays).
 */
function coreToSpare(): boolean {
  return os.loadavg()[0]! < os.availableParallelism();
}

/** The keys of one issuance: generation under way, or a spare to claim under the lock. */
interface KeyPlan {
  started?: Promise<KeyObject[]>;
  pool: boolean;
  /** A race whose loser goes to the pool once the issuance is committed. */
  race?: KeyRace;
}

/**
 * Decide before taking the lock, so that generation (most of an issuance) runs on the thread pool while the farm, the
 * index and the CA key are read and checked. A spare in the pool means no generation at all. Keys of a refused
 * request are dropped, a race's loser too: a refusal changes nothing on disk.
 */
async function planKeys(paths: PkiPaths, n: number, mode: LeafKeyMode): Promise<KeyPlan> {
  if (n > 1 || mode === 'fresh') return { started: quiet(Promise.all(Array.from({ length: n }, () => newRsaKey(2048)))), pool: false };
  if (mode === 'pool' && (await spareNames(paths)).length) return { pool: true };
  if (mode === 'pool' && !coreToSpare()) return { started: quiet(newRsaKey(2048).then((k) => [k])), pool: false };
  const race = raceForKey(paths);
  return { started: quiet(race.first.then((k) => [k])), pool: false, race };
}

/** Under the lock, serials reserved: the keys, and whether the first is already at its per-serial file (a claimed spare). */
async function takeKeys(plan: KeyPlan, paths: PkiPaths, index: PkiIndex, first: bigint): Promise<{ keys: KeyObject[]; inPlace: boolean }> {
  if (plan.pool) {
    const spare = await claimSpareKey(paths, paths.keyBySerial(serialToNginx(first)), index);
    if (spare) return { keys: [spare], inPlace: true };
    // Another process took the last one, or it was bad.
    if (!coreToSpare()) return { keys: [await newRsaKey(2048)], inPlace: false };
    plan.race = raceForKey(paths);
    return { keys: [await plan.race.first], inPlace: false };
  }
  return { keys: await plan.started!, inPlace: false };
}

/** Keys (claimed or generated), sign, commit once: one lock, one index write for the whole batch. */
async function issueLeaves(t: PkiTxn, ca: LoadedCa, reqs: LeafRequest[], plan: KeyPlan): Promise<CertRecord[]> {
  await assertWritable([t.paths.dir, t.paths.privateDir, t.paths.issuedDir, ...reqs.flatMap((r) => [path.dirname(r.certTo), path.dirname(r.keyTo)])]);
  const superseded = reqs.flatMap((r) => (r.supersedes ? [r.supersedes] : []));
  // Plain issuance only appends records: stream the existing ones to the new index file while the keys are made.
  const pending = superseded.length ? undefined : beginIndexWrite(t.paths, t.index);
  pending?.catch(() => undefined);
  try {
    const recs = await signAndCommit(t, ca, reqs, plan, superseded, pending);
    plan.race?.keepLoser();
    return recs;
  } catch (err) {
    await pending?.then((w) => w.abort(), () => undefined); // no temp index left behind (a no-op after a commit)
    throw err;
  }
}

async function signAndCommit(t: PkiTxn, ca: LoadedCa, reqs: LeafRequest[], plan: KeyPlan, superseded: CertRecord[], pending: Promise<PendingIndexWrite> | undefined): Promise<CertRecord[]> {
  const first = await reserveSerial(t.paths, t.index, reqs.length);
  const { keys, inPlace } = await takeKeys(plan, t.paths, t.index, first);
  if (keys.length !== reqs.length) throw new Error('issueLeaves: one key per request');
  const items: Issued[] = reqs.map((r, i) => {
    const cert = buildCert(
      { profile: r.profile, serialDerHex: serialToDerHex(first + BigInt(i)), subject: subjectFor(t.farm, r.cn), publicKey: toForgePublicKey(keys[i]!), days: r.days, altNames: r.altNames },
      ca,
    );
    return { cert, kind: r.kind, name: r.name, key: keys[i], keyInPlace: inPlace, certTo: r.certTo, keyTo: r.keyTo, chainTo: r.chainTo, extra: r.supersedes ? { renews: r.supersedes.serial } : undefined };
  });
  if (pending) return commitIssued(t, items, certToPem(ca.cert), undefined, pending);
  return commitIssued(t, items, certToPem(ca.cert), async (index) => {
    const now = new Date();
    for (const old of superseded) {
      const live = index.records.find((x) => x.serial === old.serial);
      if (live) markRevoked(live, 'superseded', now);
    }
    await publishCrl(t, ca, now);
  });
}

function serverRequest(t: PkiTxn): LeafRequest {
  const names = serverNames(t.farm);
  return {
    kind: 'server', profile: 'server', name: 'server', cn: names[0]!, days: t.farm.ca.serverDays, altNames: names,
    certTo: t.paths.serverCert, keyTo: t.paths.serverKey, chainTo: t.paths.serverChain,
    supersedes: currentCert(t.index, 'server', 'server'),
  };
}

function codesignRequest(t: PkiTxn): LeafRequest {
  return {
    kind: 'codesign', profile: 'codesign', name: 'codesign', cn: `${t.farm.name} code signing`, days: t.farm.ca.codesignDays,
    certTo: t.paths.codesignCert, keyTo: t.paths.codesignKey, supersedes: currentCert(t.index, 'codesign', 'codesign'),
  };
}

function clientRequest(t: PkiTxn, name: string, supersedes?: CertRecord): LeafRequest {
  return {
    kind: 'client', profile: 'client', name, cn: name, days: t.farm.ca.clientDays,
    certTo: t.paths.clientCert(name), keyTo: t.paths.clientKey(name), supersedes,
  };
}

/**
 * The server certificate (SANs: farm.server.address and names, DNS or IP) and server-chain.crt. Issuing again
 * (after the names changed) replaces the current one, which is revoked as superseded.
 */
export async function issueServer(h: FarmHandle, opts: IssueOptions = {}): Promise<CertRecord> {
  const keys = await planKeys(h.pki, 1, opts.keys ?? 'pool');
  return pkiTransaction(h, async (t) => {
    const ca = await loadCa(t.paths, opts.passphrase);
    return (await issueLeaves(t, ca, [serverRequest(t)], keys))[0]!;
  });
}

/** The code-signing certificate (digitalSignature + codeSigning) that `sign` uses; re-issuing replaces it. */
export async function issueCodesign(h: FarmHandle, opts: IssueOptions = {}): Promise<CertRecord> {
  const keys = await planKeys(h.pki, 1, opts.keys ?? 'pool');
  return pkiTransaction(h, async (t) => {
    const ca = await loadCa(t.paths, opts.passphrase);
    return (await issueLeaves(t, ca, [codesignRequest(t)], keys))[0]!;
  });
}

/** A client certificate (CN = name, EKU clientAuth) and its key. A name that already has a valid certificate is refused. */
export async function issueClient(h: FarmHandle, name: string, opts: IssueOptions = {}): Promise<CertRecord> {
  return (await issueClients(h, [name], opts))[0]!;
}

/** Several clients in one go: keys generated in parallel, one lock, one index write. All or nothing. */
export async function issueClients(h: FarmHandle, names: string[], opts: IssueOptions = {}): Promise<CertRecord[]> {
  if (names.length === 0) throw new UsageError('No client name given.', 'Pass at least one NAME.');
  const seen = new Set<string>();
  for (const n of names) {
    checkName('client', n);
    if (seen.has(n)) throw new UsageError(`The client name "${n}" is given twice.`, 'Give each name once.');
    seen.add(n);
  }
  const keys = await planKeys(h.pki, names.length, opts.keys ?? 'pool');
  return pkiTransaction(h, async (t) => {
    for (const n of names) {
      assertNameFree(t.index, t.farm, n, 'client', 'Choose another client name, or revoke that certificate first.');
      const have = currentCert(t.index, 'client', n);
      if (have) {
        throw new FarmError(
          `Client "${n}" already has a certificate (serial ${have.serial}, valid until ${have.notAfter.slice(0, 10)}).`,
          `Use \`ipxe-farm renew ${n}\` to replace it, or revoke it first.`,
          'EEXIST',
        );
      }
    }
    const ca = await loadCa(t.paths, opts.passphrase);
    return issueLeaves(t, ca, names.map((n) => clientRequest(t, n)), keys);
  });
}

/** Find the record a user means by a name or a serial; one clear sentence when there is none or several. */
export function resolveTarget(records: CertRecord[], nameOrSerial: string, wantValid = true): CertRecord {
  const pool = records.filter((r) => !wantValid || r.status === 'valid');
  const byName = pool.filter((r) => r.name === nameOrSerial && r.kind !== 'root');
  const n = parseSerial(nameOrSerial);
  const bySerial = n !== undefined ? findBySerial({ version: 1, nextSerial: '01', records }, nameOrSerial) : undefined;
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) {
    const newest = byName.reduce((a, b) => (BigInt(`0x${a.serial}`) > BigInt(`0x${b.serial}`) ? a : b));
    if (byName.every((r) => r.kind === newest.kind)) return newest;
    throw new FarmError(`"${nameOrSerial}" names several certificates (${byName.map((r) => `${r.kind} ${r.serial}`).join(', ')}).`, 'Give the serial instead.', 'EAMBIGUOUS');
  }
  if (bySerial) {
    if (wantValid && bySerial.status !== 'valid') {
      throw new FarmError(`The certificate with serial ${bySerial.serial} (${bySerial.kind} "${bySerial.name}") is already revoked.`, 'Nothing to do.', 'EREVOKED');
    }
    return bySerial;
  }
  const revoked = records.find((r) => r.name === nameOrSerial && r.status === 'revoked');
  if (revoked && wantValid) {
    throw new FarmError(`"${nameOrSerial}" has no valid certificate: its last one (serial ${revoked.serial}) is revoked.`, 'Issue a new one with `ipxe-farm issue client NAME`.', 'EREVOKED');
  }
  throw new FarmError(`No certificate is named "${nameOrSerial}" and none has that serial.`, 'Run `ipxe-farm certs` to list them.', 'ENOTFOUND');
}

/**
 * Renew (re-issue) a server, client or code-signing certificate with a fresh key and validity; the old one is
 * revoked as superseded in the same index write and the CRL is republished.
 */
export async function renew(h: FarmHandle, nameOrSerial: string, opts: PassphraseOptions = {}): Promise<CertRecord> {
  // A renewal (often after a compromise) gets a key made for it now, and leaves the pool alone.
  const keys = await planKeys(h.pki, 1, 'fresh');
  return pkiTransaction(h, async (t) => {
    const old = resolveTarget(t.index.records, nameOrSerial);
    let req: LeafRequest;
    if (old.kind === 'server') req = serverRequest(t);
    else if (old.kind === 'codesign') req = codesignRequest(t);
    else if (old.kind === 'client') req = clientRequest(t, old.name, old);
    else {
      throw new FarmError(
        `A ${old.kind === 'csr' ? 'certificate signed from a CSR' : old.kind === 'cross' ? 'cross-signed root' : 'root'} cannot be renewed here: its key is not ours.`,
        old.kind === 'csr' ? 'Sign a new CSR with `ipxe-farm sign-csr FILE`.' : 'Run the original command again.',
        'EREFUSED',
      );
    }
    req.supersedes = old;
    const ca = await loadCa(t.paths, opts.passphrase);
    return (await issueLeaves(t, ca, [req], keys))[0]!;
  });
}
