/**
 * Serial numbers. The index stores nginx's `$ssl_client_serial` form (OpenSSL's i2a_ASN1_INTEGER: the magnitude's
 * bytes as uppercase hex, two digits each), so the boot service compares strings. The certificate itself needs DER
 * INTEGER content, which must start with a 00 byte when the top bit is set (else the serial reads as negative).
 */

/** nginx/openssl form of a positive serial: uppercase hex, even number of digits. */
export function serialToNginx(n: bigint): string {
  if (n <= 0n) throw new RangeError('serials are positive');
  const hex = n.toString(16).toUpperCase();
  return hex.length % 2 ? `0${hex}` : hex;
}

/** Hex for forge's `cert.serialNumber`: the nginx form plus a 00 sign byte when the high bit is set. */
export function serialToDerHex(n: bigint): string {
  const hex = serialToNginx(n);
  return parseInt(hex[0]!, 16) >= 8 ? `00${hex}` : hex;
}

/** Accepts "1A2B", "1a:2b", "0x1a2b" or a DER hex with its sign byte; undefined when not a serial. */
export function parseSerial(text: string): bigint | undefined {
  const hex = text.trim().replace(/^0x/i, '').replace(/:/g, '');
  if (!/^[0-9a-fA-F]{1,64}$/.test(hex)) return undefined;
  const n = BigInt(`0x${hex}`);
  return n > 0n ? n : undefined;
}

/** The nginx form of a serial read back from a certificate (forge gives DER hex, maybe with a 00 sign byte). */
export function normaliseSerial(text: string): string | undefined {
  const n = parseSerial(text);
  return n === undefined ? undefined : serialToNginx(n);
}
