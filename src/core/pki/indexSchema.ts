import * as z from 'zod';

/**
 * The PKI index (pki/index.json): what the CA did. Other modules read it (the boot service looks clients up by nginx's
 * `$ssl_client_fingerprint`/`$ssl_client_serial`, the trees show validity), only src/core/pki writes it. The fields the
 * boot service decides by (serial, sha1, kind, status) must have exactly the form nginx prints and the CA writes: a
 * record that does not is not guessed at, the whole index is refused (see indexRead.ts).
 *
 * The shape lists the fields in the order the CA writes them, so a record read and written again keeps its bytes.
 */
const hex = (digits: number) => z.string().regex(new RegExp(`^[0-9a-f]{${digits}}$`));

export const certKindSchema = z.enum(['root', 'server', 'client', 'codesign', 'cross', 'csr']);
export const certStatusSchema = z.enum(['valid', 'revoked']);

export const certRecordSchema = z.object({
  /** Uppercase hex in whole bytes without a leading 00: exactly what `$ssl_client_serial` prints. */
  serial: z.string().regex(/^(?:0[1-9A-F]|[1-9A-F][0-9A-F])(?:[0-9A-F]{2})*$/, 'not a serial in nginx form (uppercase hex, whole bytes, no leading 00)'),
  kind: certKindSchema,
  /** Client name for clients; "server", "codesign", "root", or the CN for signed CSRs and cross-signed roots. */
  name: z.string().min(1),
  /** Subject DN, e.g. "CN=dut1,O=lab". */
  subject: z.string(),
  /** SHA-1 of the DER, lowercase hex without colons: exactly what `$ssl_client_fingerprint` prints. */
  sha1: hex(40),
  /**
   * SHA-256 of the DER, lowercase hex without colons (what iPXE's TRUST= embeds for a root). No pattern here, nor on
   * the next one: no request is decided by them, and each pattern costs ~1 ms per 1,000 records on every CLI call.
   */
  sha256: z.string(),
  /** SHA-256 of the certified public key (SubjectPublicKeyInfo DER): a key is never certified twice via the pool. */
  publicKeySha256: z.string().optional(),
  notBefore: z.string(), // ISO 8601
  notAfter: z.string(), // ISO 8601
  status: certStatusSchema,
  /** Paths relative to pki/. */
  certFile: z.string(),
  issuedAt: z.string(),
  keyFile: z.string().optional(),
  /** DNS names and IP addresses of a server certificate signed from a CSR. */
  altNames: z.array(z.string()).optional(),
  /** Serial of the certificate this one renewed. */
  renews: z.string().optional(),
  revokedAt: z.string().optional(),
  revocationReason: z.string().optional(),
});

export const pkiIndexSchema = z.object({
  version: z.literal(1),
  records: z.array(certRecordSchema),
  /** Next serial to hand out, hex; serials never repeat, even after a crash between issue and index write. */
  nextSerial: z.string(),
  /** Number of the last CRL published (CRLs carry an increasing cRLNumber). */
  crlNumber: z.number().int().nonnegative().optional(),
});

/**
 * The same index with its records taken as they are: only for bytes whose recordsSha256 matches (indexLayout.ts), i.e.
 * records the CA checked against certRecordSchema when it wrote them. Every other field is checked as above.
 */
export const pkiIndexVouchedSchema = pkiIndexSchema.extend({ records: z.array(z.custom<z.output<typeof certRecordSchema>>()) });

/** File copies that follow an index write; written before the index, removed after the copies (store.ts). */
export const journalSchema = z.object({
  serials: z.array(z.string()),
  copies: z.array(z.object({ from: z.string(), to: z.string(), mode: z.number().int() })),
});

/** What recovery keeps of a journal it cannot use whole: the serials it names stay used. */
export const journalSerialsSchema = z.object({ serials: z.array(z.coerce.string()) });
