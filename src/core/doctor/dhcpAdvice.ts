/**
 * The DHCP server lines that spare every iPXE client the ProxyDHCP wait. iPXE waits 2 s after the first DHCP offer
 * for a ProxyDHCP offer (a PXE server beside the DHCP server) unless the offer carries iPXE's "no-pxedhcp" option:
 * option 176 inside iPXE's encapsulated option 175, one byte = 1. Stock images (Debian's prebuilt iPXE) and built
 * images of a farm with ipxe.proxyDhcp true need it from the server; a farm's own images with ipxe.proxyDhcp false
 * skip the wait anyway. iPXE asks for option 175 in every DHCP request, so the lines below reach iPXE only.
 */
import type { Farm } from '../farm/light';

export const NO_PXEDHCP_LINES = {
  /** /etc/dnsmasq.conf (or a file in /etc/dnsmasq.d/); `1b` makes dnsmasq send one byte. */
  dnsmasq: ['dhcp-option=encap:175,176,1b'],
  /** /etc/dhcp/dhcpd.conf: declare iPXE's option space once (top level), then set the option (top level or a subnet). */
  iscDhcpd: [
    'option space ipxe;',
    'option ipxe-encap-opts code 175 = encapsulate ipxe;',
    'option ipxe.no-pxedhcp code 176 = unsigned integer 8;',
    'option ipxe.no-pxedhcp 1;',
  ],
} as const;

/** What `ipxe-farm doctor` prints under the checks. */
export function dhcpAdvice(farm?: Pick<Farm, 'ipxe'>): string {
  const built = farm?.ipxe.proxyDhcp
    ? 'This farm says its network has a ProxyDHCP server (ipxe.proxyDhcp true), so its built images wait for it too.'
    : 'This farm\'s built images skip that wait already (ipxe.proxyDhcp false); stock images and other iPXE builds do not.';
  return [
    'Faster DHCP on networks whose DHCP server you configure: iPXE waits 2 s per boot for a ProxyDHCP offer unless the',
    'DHCP server sends iPXE\'s no-pxedhcp option (175.176 = 1). Only on a network with no PXE/ProxyDHCP server:',
    ...NO_PXEDHCP_LINES.dnsmasq.map((l) => `  dnsmasq:    ${l}`),
    ...NO_PXEDHCP_LINES.iscDhcpd.map((l) => `  ISC dhcpd:  ${l}`),
    built,
  ].join('\n');
}
