/** The body of a PEM block as DER bytes. */
export function pemToDer(pem: string): Buffer {
  const body = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/.exec(pem)?.[1];
  if (!body) throw new Error('not a PEM block');
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}

/** iPXE's `hex` setting type: bytes as two hex digits separated by colons (`set cert …`, `set privkey …`). */
export function ipxeHex(der: Buffer): string {
  return [...der].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
