/**
 * The config headers a farm image needs. Most go to `src/config/local/ipxefarm/` and are selected with
 * `CONFIG=ipxefarm` (so a user's own config/local headers stay untouched); iPXE v2.0.0's config/dhcp.h reads only
 * `config/local/dhcp.h` (no named-config hook), so the DHCP waits go there, under the same ownership rule (see
 * build.ts: an empty header or one iPXE Farm wrote is replaced, anyone else's refuses the build). They are the same
 * for every client of a farm, on purpose: iPXE recompiles every object that includes a config header when it
 * changes, so anything per-client belongs in the embedded script (or CERT/PRIVKEY), never here.
 */
import type { IpxeSettings } from '../farm/light';

/** First line of every header iPXE Farm writes; a header without it is someone else's and is never overwritten. */
export const HEADER_MARK = '/* Written by iPXE Farm for its client images: a build puts this content back whenever it differs. */';

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
    HEADER_MARK,
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
    HEADER_MARK,
    '/* A private farm CA: never fetch cross-signed certificates from the public iPXE CA site. */',
    '#undef CROSSCERT',
    '#define CROSSCERT ""',
    '',
    '/* A private farm CA runs no OCSP responder; revocation is enforced by nginx with the farm CRL. */',
    '#undef OCSP_CHECK',
    '',
  ].join('\n');
}

/** The farm file's choices about iPXE's DHCP waits (defaults: a farm booting from its own media). */
export type DhcpTuning = Partial<Pick<IpxeSettings, 'proxyDhcp' | 'fastDhcpRetry'>>;

/**
 * iPXE's DHCP waits a farm does not need. Measured under QEMU TCG (iPXE v2.0.0, `dhcp` alone, 3 alternating boots):
 * stock 3.10–3.14 s; without the ProxyDHCP wait 1.10–1.13 s; with the quick first retransmission too 0.07–0.34 s.
 * With both farm settings at iPXE's standard, the header holds no setting at all: the stock waits are back.
 */
export function dhcpHeader(t: DhcpTuning = {}): string {
  const lines = [HEADER_MARK];
  if (!t.proxyDhcp) {
    lines.push(
      '',
      '/* ipxe.proxyDhcp is false: no PXE/ProxyDHCP server on this network. iPXE would wait 2 s after the first DHCP',
      ' * offer for a ProxyDHCP offer nobody sends (unless the DHCP server sends option 175.176 no-pxedhcp = 1). */',
      '#undef DHCP_DISC_PROXY_TIMEOUT_SEC',
      '#define DHCP_DISC_PROXY_TIMEOUT_SEC 0',
    );
  }
  if (t.fastDhcpRetry ?? true) {
    lines.push(
      '',
      '/* ipxe.fastDhcpRetry is true: the first DHCPDISCOVER is resent within 1/4 s instead of after 1 s. An offer that comes',
      ' * back within the same timer tick does not yet count as "waited long enough" for ProxyDHCP, so iPXE takes it',
      ' * only at the first retransmission: this turns that 1 s into 1/4 s. Cost: a few more DISCOVERs, and on a',
      ' * switch port still blocked by spanning tree iPXE stops deferring at once (set it to false on such ports). */',
      '#undef DHCP_DISC_START_TIMEOUT_SEC',
      '#define DHCP_DISC_START_TIMEOUT_SEC 0',
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** Header path relative to the tree's src/config/local/ → content. */
export function localConfigHeaders(t: DhcpTuning = {}): Record<string, string> {
  return { 'ipxefarm/general.h': generalHeader(), 'ipxefarm/crypto.h': cryptoHeader(), 'dhcp.h': dhcpHeader(t) };
}
