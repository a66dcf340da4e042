import * as fsp from 'node:fs/promises';
import type { FarmHandle } from '../core/farm';

export { fillKeyPool } from '../core/pki';

/** Spare keys are only worth making for a farm that can issue certificates. */
export async function hasCa(h: FarmHandle): Promise<boolean> {
  return fsp.access(h.pki.caCert).then(() => true, () => false);
}
