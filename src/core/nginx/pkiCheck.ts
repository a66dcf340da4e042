import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { FarmError } from '../errors';
import type { FarmLayout } from '../farm/light';
import { pkiPaths } from '../pki/light';

/**
 * Before a start: the PKI files the config names must exist. nginx would only say `cannot load certificate …
 * BIO_new_file() failed`; a new farm's usual cause is a step not yet done, so name the step.
 */
export async function assertPkiReady(layout: FarmLayout, sources: Record<string, string>): Promise<void> {
  const pki = pkiPaths(layout);
  const steps: Array<[string, string]> = [
    [pki.caCert, '`ipxe-farm ca init`'],
    [pki.crlPem, '`ipxe-farm crl`'],
    [pki.serverChain, '`ipxe-farm issue server`'],
    [pki.serverKey, '`ipxe-farm issue server`'],
  ];
  const text = Object.values(sources).map((t) => t.replace(/#.*$/gm, '')).join('\n');
  for (const [file, step] of steps) {
    if (!text.includes(file)) continue; // the user's config reads something else: nginx -t will judge it
    try { await fsp.access(file); } catch {
      throw new FarmError(
        `${path.relative(layout.root, file)} does not exist yet, and the nginx config needs it.`,
        `Run ${file === pki.caCert ? step : `${step} (after \`ipxe-farm ca init\`)`} first.`,
        'ENOPKI',
      );
    }
  }
}
