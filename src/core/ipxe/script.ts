import { isIP } from 'node:net';
import { FarmError } from '../errors';
import { isHostName } from '../net/light';
import { type Farm, checkName } from '../farm/light';

/**
 * The script built into each client's image. iPXE splits a script line on whitespace with no quoting at all and
 * expands `${…}` anywhere, so a value is safe only if it has neither: every value below is checked against a strict
 * pattern and refused otherwise, never "escaped" into something iPXE would read differently.
 */

export type FailureAction = 'retry' | 'shell' | 'poweroff';

export interface EmbeddedScriptOptions {
  client: string;
  farmName?: string;
  /** Host the client connects to; must be a name or address in the server certificate. */
  address: string;
  httpsPort: number;
  /** Path of the per-client script on the boot service. */
  path?: string;
  /** Set the clock before HTTPS (certificate validity depends on it). */
  ntp?: string;
  /**
   * The client's MACs (ipxe-farm.json): DHCP runs first on the interface that has one of them. A plain `dhcp` tries
   * the interfaces in order and waits 15 s for link-up on each uncabled one before it (a board's second port).
   */
  macs?: string[];
  dhcpAttempts?: number;
  chainAttempts?: number;
  /** Seconds between attempts. */
  retryDelay?: number;
  /**
   * After the last attempt: `retry` offers the shell for 10 s and starts over (a board in a rack keeps trying),
   * `shell` drops to the iPXE shell, `poweroff` ends the machine (headless test boots stop at once).
   */
  onFailure?: FailureAction;
  /**
   * The image is shared by the farm's clients (built once per farm and architecture, no CERT/PRIVKEY compiled in):
   * each client's identity script (identity.ts), beside the binary as autoexec.ipxe on an EFI stick or ISOLINUX's
   * INITRD on a BIOS ISO, is run first and then freed, so the key stays in memory no longer than needed.
   */
  shared?: SharedKind;
}

/** The shared binaries: an EFI application, or a BIOS ipxe.lkrn started by ISOLINUX. */
export type SharedKind = 'efi' | 'lkrn';

/** The name iPXE gives the per-client identity script: EFI's autoexec.ipxe, the initrd a BIOS .lkrn was handed. */
export const IDENTITY_IMAGE: Record<SharedKind, string> = { efi: 'autoexec.ipxe', lkrn: '<INITRD>' };

/** Lines the script prints, so serial-log readers (QEMU runs, the editor) can follow the stages. */
export const SCRIPT_MARKERS = {
  start: 'iPXE Farm: client',
  fetching: 'iPXE Farm: fetching',
  fetchFailed: 'iPXE Farm: FAILED to fetch',
  /** After a failed fetch the image asks /why.ipxe, whose answer iPXE runs: it echoes `refused` and the reason. */
  askingWhy: 'iPXE Farm: asking the farm why',
  /** Printed by the /why.ipxe answer (the boot service's and nginx's), not by this script. */
  refused: 'iPXE Farm refused this machine:',
  noDhcp: 'iPXE Farm: FAILED: no DHCP lease',
  returned: 'iPXE Farm: the boot script returned',
  givingUp: 'iPXE Farm: giving up',
} as const;

/** A host name or IP literal that can stand in a URL in an iPXE script; throws with the fix otherwise. */
export function checkScriptHost(value: string, what: string): string {
  const v = value.trim();
  if (isIP(v.replace(/^\[|\]$/g, '')) === 6) return v;
  if (isHostName(v)) return v;
  throw new FarmError(
    `${what} "${value}" cannot go into an iPXE script: it is not a host name or an IP address.`,
    'Use a plain DNS name or IP address (no spaces, quotes, slashes or ${…}).',
    'EBADVALUE',
  );
}

/** "host:port" with IPv6 in brackets, as a URL needs. */
export function urlHost(address: string, port: number): string {
  const bare = address.replace(/^\[|\]$/g, '');
  return isIP(bare) === 6 ? `[${bare}]:${port}` : `${address}:${port}`;
}

function checkInt(value: number, what: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new FarmError(`${what} must be a whole number from ${min} to ${max}, not ${String(value)}.`, undefined, 'EBADVALUE');
  }
  return value;
}

const URL_PATH = /^\/[A-Za-z0-9._~/-]*$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Find the interface with one of the client's MACs (net0, net1, … until one has no MAC) and run DHCP there first;
 * when none matches or its DHCP fails, the plain `dhcp` after these lines tries every interface as before.
 */
function knownInterfaceDhcp(macs: string[]): string[] {
  if (macs.length === 0) return [];
  return [
    'set farm_if:int32 0',
    ':farm_find_if',
    ...macs.map((m) => `iseq \${net\${farm_if}/mac} ${m} && goto farm_dhcp_if ||`),
    'inc farm_if',
    'isset ${net${farm_if}/mac} && goto farm_find_if ||',
    'goto farm_dhcp_all',
    ':farm_dhcp_if',
    'dhcp net${farm_if} && goto farm_net ||',
    ':farm_dhcp_all',
  ];
}

export function embeddedScript(o: EmbeddedScriptOptions): string {
  if (!o.shared) checkName('client', o.client);
  // The farm name only decorates a comment: left out rather than refused when it has anything unusual in it.
  const farmName = o.farmName && /^[A-Za-z0-9._-]{1,63}$/.test(o.farmName) ? o.farmName : undefined;
  const address = checkScriptHost(o.address, 'The server address');
  const port = checkInt(o.httpsPort, 'The HTTPS port', 1, 65535);
  const urlPath = o.path ?? '/boot.ipxe';
  if (!URL_PATH.test(urlPath)) throw new FarmError(`The boot script path "${urlPath}" cannot go into an iPXE script.`, 'Use a path of letters, digits, dots, dashes and slashes, starting with /.', 'EBADVALUE');
  const ntp = o.ntp ? checkScriptHost(o.ntp, 'The NTP server') : undefined;
  const dhcpAttempts = checkInt(o.dhcpAttempts ?? 5, 'The number of DHCP attempts', 1, 100);
  const chainAttempts = checkInt(o.chainAttempts ?? 3, 'The number of boot script attempts', 1, 100);
  const delay = checkInt(o.retryDelay ?? 5, 'The retry delay', 0, 3600);
  const macs = (o.macs ?? []).map((m) => {
    if (!MAC.test(m)) throw new FarmError(`The MAC "${m}" cannot go into an iPXE script.`, 'Write it as 52:54:00:12:34:56 (lowercase hex, colons).', 'EBADVALUE');
    return m;
  });
  const onFailure = o.onFailure ?? 'retry';
  if (!['retry', 'shell', 'poweroff'].includes(onFailure)) throw new FarmError(`Unknown failure action "${onFailure}": use retry, shell or poweroff.`, undefined, 'EBADVALUE');
  const url = `https://${urlHost(address, port)}${urlPath}`;
  const whyUrl = `https://${urlHost(address, port)}/why.ipxe`;

  const head = o.shared ? [
    '#!ipxe',
    `# iPXE Farm: the script built into the image every client of ${farmName ? `farm ${farmName}` : 'the farm'} shares; each brings its identity.`,
    '# Generated from ipxe-farm.json: change the farm and rebuild the image instead of editing this.',
    // Only the name this firmware uses: an unknown name would be fetched as a URL and print an error code.
    `imgexec ${IDENTITY_IMAGE[o.shared]} && imgfree ${IDENTITY_IMAGE[o.shared]} ||`,
    `isset \${farm_client} || echo iPXE Farm: FAILED: this image carries no client identity (${IDENTITY_IMAGE[o.shared]}): make it with ipxe-farm build CLIENT --shared`,
    `isset \${farm_client} || goto farm_failed`,
    `echo ${SCRIPT_MARKERS.start} \${farm_client}, boot server ${url}`,
    '',
  ] : [
    '#!ipxe',
    `# iPXE Farm: the script built into the image of client ${o.client}${farmName ? ` (farm ${farmName})` : ''}.`,
    '# Generated from ipxe-farm.json: change the farm and rebuild the image instead of editing this.',
    `echo ${SCRIPT_MARKERS.start} ${o.client}, boot server ${url}`,
    '',
  ];
  const lines = [
    ...head,
    ':farm_start',
    'set farm_try:int32 0',
    ':farm_dhcp',
    'inc farm_try',
    ...knownInterfaceDhcp(macs),
    'dhcp && goto farm_net ||',
    `iseq \${farm_try} ${dhcpAttempts} && goto farm_no_dhcp ||`,
    `echo iPXE Farm: no DHCP lease yet (attempt \${farm_try} of ${dhcpAttempts}), retrying in ${delay} s`,
    ...(delay > 0 ? [`sleep ${delay}`] : []),
    'goto farm_dhcp',
    ':farm_no_dhcp',
    `echo ${SCRIPT_MARKERS.noDhcp} after ${dhcpAttempts} attempts. Check the network cable and that a DHCP server answers on this network.`,
    'goto farm_failed',
    '',
    ':farm_net',
  ];
  if (ntp) {
    lines.push(`ntp ${ntp} || echo iPXE Farm: NTP server ${ntp} did not answer, so certificate dates are checked against the board clock`);
  }
  lines.push(
    'set farm_try:int32 0',
    ':farm_chain',
    'inc farm_try',
    `echo ${SCRIPT_MARKERS.fetching} ${url} (attempt \${farm_try} of ${chainAttempts})`,
    `chain ${url} && goto farm_returned ||`,
    // iPXE runs no 4xx body, so a refused machine would show only an error code: the farm says why in a 200 answer,
    // once per failed attempt. Only when that cannot be fetched either is the code all there is.
    `echo ${SCRIPT_MARKERS.askingWhy}: ${whyUrl}`,
    `chain --autofree ${whyUrl} && goto farm_told ||`,
    `echo ${SCRIPT_MARKERS.fetchFailed} ${url}: the lines above end with the iPXE error code. Decode it with: ipxe-farm decode CODE`,
    ':farm_told',
    `iseq \${farm_try} ${chainAttempts} && goto farm_failed ||`,
    ...(delay > 0 ? [`sleep ${delay}`] : []),
    'goto farm_chain',
    '',
    ':farm_returned',
    `echo ${SCRIPT_MARKERS.returned} without booting anything.`,
    '',
    ':farm_failed',
  );
  if (onFailure === 'poweroff') {
    lines.push(`echo ${SCRIPT_MARKERS.givingUp}: powering off.`, 'poweroff', 'exit 1');
  } else if (onFailure === 'shell') {
    lines.push(`echo ${SCRIPT_MARKERS.givingUp}: starting the iPXE shell (type exit to start over).`, 'shell', 'goto farm_start');
  } else {
    lines.push(
      `echo ${SCRIPT_MARKERS.givingUp} for now: press s within 10 s for the iPXE shell, or wait to start over.`,
      'prompt --key s --timeout 10000 && shell ||',
      'goto farm_start',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The embedded script of a farm client, from the farm file's server and ipxe settings. The client needs a certificate
 * to be built, not an entry in "clients": the boot service decides what it boots, the image only knows where to ask.
 */
export function clientEmbeddedScript(farm: Farm, client: string, overrides: Partial<EmbeddedScriptOptions> = {}): string {
  return embeddedScript({
    client,
    farmName: farm.name,
    address: farm.server.address,
    httpsPort: farm.server.httpsPort,
    ntp: farm.ipxe.ntp || undefined,
    macs: farm.clients[client]?.macs,
    ...overrides,
  });
}
