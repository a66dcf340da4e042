/**
 * The config headers a farm image needs, written to `src/config/local/ipxefarm/` and selected with `CONFIG=ipxefarm`
 * (so a user's own config/local headers stay untouched). They are the same for every client and every farm, on purpose:
 * iPXE recompiles most of its tree when a config header changes, so anything per-client belongs in the embedded
 * script (or CERT/PRIVKEY), never here.
 */

/** Commands and protocols the farm relies on; each line says why it is there. */
const GENERAL_FEATURES: Array<[string, string]> = [
  ['DOWNLOAD_PROTO_HTTPS', 'the boot script comes over mutual TLS; BIOS builds leave HTTPS out by default'],
  ['IMAGE_TRUST_CMD', 'imgtrust/imgverify: kernels and initrds signed by the farm code-signing certificate'],
  ['CERT_CMD', 'certstat/certstore: see which certificates the image holds when a handshake fails'],
  ['DIGEST_CMD', 'sha256sum: pin image hashes where imgverify is not available'],
  ['NTP_CMD', 'ntp: certificate validity is checked against the clock, and board RTCs drift'],
  ['PARAM_CMD', 'params/param: POST values to the boot service'],
  ['POWEROFF_CMD', 'poweroff: headless test boots end themselves'],
];

export function generalHeader(): string {
  const lines = [
    '/* Written by iPXE Farm for its client images: a build puts this content back whenever it differs. */',
    '/* CONSOLE_SERIAL stays off: SeaBIOS and OVMF already mirror the screen to the serial port. */',
    '',
  ];
  for (const [name, why] of GENERAL_FEATURES) {
    lines.push(`/* ${why} */`, `#undef ${name}`, `#define ${name}`, '');
  }
  return lines.join('\n');
}

/**
 * A private CA has no cross-signed path to iPXE's public root and no OCSP responder: without these lines a failed
 * chain makes the client ask the public iPXE CA site for a cross-signature, which leaks the farm's existence and
 * hangs on networks without internet.
 */
export function cryptoHeader(): string {
  return [
    '/* Written by iPXE Farm for its client images: a build puts this content back whenever it differs. */',
    '/* A private farm CA: never fetch cross-signed certificates from the public iPXE CA site. */',
    '#undef CROSSCERT',
    '#define CROSSCERT ""',
    '',
    '/* A private farm CA runs no OCSP responder; revocation is enforced by nginx with the farm CRL. */',
    '#undef OCSP_CHECK',
    '',
  ].join('\n');
}

/** File name (relative to the tree's src/config/local/ipxefarm/) → content. */
export function localConfigHeaders(): Record<string, string> {
  return { 'general.h': generalHeader(), 'crypto.h': cryptoHeader() };
}
