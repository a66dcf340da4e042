import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import forge from 'node-forge';
import type { Issuer } from './build';

/**
 * A detached CMS SignedData without signed attributes, DER: what `openssl cms -sign -binary -noattr` writes and
 * iPXE's `imgverify` accepts. forge's pkcs7.createSignedData would need the whole file as one string (an 8 MB kernel
 * copied several times), so the content is hashed as a stream and the structure assembled here with forge.asn1;
 * without signed attributes the RSA signature is over the content digest itself.
 */
const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

function oid(o: string): forge.asn1.Asn1 {
  return asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes());
}

function algId(o: string): forge.asn1.Asn1 {
  return asn1.create(U, T.SEQUENCE, true, [oid(o), asn1.create(U, T.NULL, false, '')]);
}

/**
 * SHA-256 of a file as forge's binary string, read in chunks (never the whole file in memory). Node's native hash:
 * forge's JavaScript SHA-256 spends seconds on a multi-MB kernel; the signature's bytes are the same either way.
 */
export async function digestFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest().toString('binary');
}

/** DER bytes (binary string) of the signature over content whose SHA-256 is `digest`. */
export function buildDetachedSignature(signer: Issuer, digest: string, extraCerts: forge.pki.Certificate[]): string {
  const oids = forge.pki.oids;
  // forge's RSA sign needs only these two members of a message digest.
  const md = { algorithm: 'sha256', digest: () => forge.util.createBuffer(digest) } as unknown as forge.md.MessageDigest;
  const signature = signer.key.sign(md);
  const signerInfo = asn1.create(U, T.SEQUENCE, true, [
    asn1.create(U, T.INTEGER, false, asn1.integerToDer(1).getBytes()),
    asn1.create(U, T.SEQUENCE, true, [
      forge.pki.distinguishedNameToAsn1(signer.cert.issuer),
      asn1.create(U, T.INTEGER, false, forge.util.hexToBytes(signer.cert.serialNumber)),
    ]),
    algId(oids.sha256!),
    algId(oids.rsaEncryption!),
    asn1.create(U, T.OCTETSTRING, false, signature),
  ]);
  const certs = [signer.cert, ...extraCerts].map((c) => forge.pki.certificateToAsn1(c));
  const signedData = asn1.create(U, T.SEQUENCE, true, [
    asn1.create(U, T.INTEGER, false, asn1.integerToDer(1).getBytes()),
    asn1.create(U, T.SET, true, [algId(oids.sha256!)]),
    asn1.create(U, T.SEQUENCE, true, [oid(oids.data!)]),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, certs),
    asn1.create(U, T.SET, true, [signerInfo]),
  ]);
  const contentInfo = asn1.create(U, T.SEQUENCE, true, [
    oid(oids.signedData!),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [signedData]),
  ]);
  return asn1.toDer(contentInfo).getBytes();
}
