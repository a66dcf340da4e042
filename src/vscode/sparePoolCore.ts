import * as fsp from 'node:fs/promises';
import { farmLayout } from '../core/farm';
import { pkiPaths } from '../core/pki';

export { fillKeyPool } from '../core/pki';

/** Spare keys are only worth making for a farm that can issue certificates. */
export async function hasCa(root: string): Promise<boolean> {
  return fsp.access(pkiPaths(farmLayout(root)).caCert).then(() => true, () => false);
}
