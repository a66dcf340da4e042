import { isIP } from 'node:net';

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/**
 * Whether `value` is exactly an IP address (v4, or v6 without brackets) or a DNS name (letters, digits and inner
 * dashes per label, one optional final dot; not all digits). This is what may stand as a host in an iPXE script URL,
 * a server certificate's SAN and nginx's listen line: nothing iPXE would split, expand or read as a command.
 */
export function isHostName(value: string): boolean {
  if (isIP(value) !== 0) return true;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => HOST_LABEL.test(l)) && !/^[0-9.]+$/.test(name);
}
