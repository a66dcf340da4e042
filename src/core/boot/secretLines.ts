import { type Farm, type Profile, parseSecretMode } from '../farm/light';
import { checkScriptHost, urlHost } from '../ipxe/light';

/** The boot service's route for secret files: /secret/TOKEN, over the same mutual-TLS port as the script. */
export const SECRET_ROUTE = '/secret/';

/**
 * Where a one-time token goes in a rendered script: NUL, which no other script line can hold (ipxe/scriptLine.ts refuses
 * control characters everywhere), around the file's index. The boot service swaps each slot for a fresh token per
 * request (secretFiles.ts); `explain`/`script` show a placeholder. A slot that reached iPXE would fail, never leak.
 */
export const TOKEN_SLOT = '\u0000';
export const TOKEN_SLOTS = /\u0000(\d+)\u0000/g;
export const TOKEN_SHOWN = '<one-time-token>';

/** The secret file's URL with its token slot: same host and port the image fetches its script from. */
function slotUrl(farm: Farm, index: number): string {
  return `https://${urlHost(checkScriptHost(farm.server.address, 'The server address'), farm.server.httpsPort)}${SECRET_ROUTE}${TOKEN_SLOT}${index}${TOKEN_SLOT}`;
}

/**
 * One `initrd` line per secret file (iPXE v2.0.0 core/cpio.c): the words after the URL become the cpio name, `mode=`
 * its octal permissions and `mkdir=-1` creates every missing parent folder (0755). Path and mode were checked at
 * load time (farm/secretFiles.ts), so nothing here comes from outside the farm file's rules.
 */
export function secretFileLines(farm: Farm, profile: Profile): string[] {
  return (profile.secretFiles ?? []).map((f, i) => {
    const mode = parseSecretMode(f.mode)!.toString(8).padStart(3, '0');
    return `initrd --name farm-secret${i} ${slotUrl(farm, i)} ${f.path} mode=${mode} mkdir=-1`;
  });
}

/** A rendered script for people: each token slot shown as a placeholder. */
export function showTokenSlots(script: string): string {
  return script.replace(TOKEN_SLOTS, TOKEN_SHOWN);
}
