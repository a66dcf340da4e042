import { FarmError } from '../errors';
import { exists } from '../fs/light';
import type { FarmLayout } from '../farm/light';
import { nginxPaths } from './paths';

/**
 * Before anything runs nginx on the farm's config (up, test, reload): without one, nginx's own answer is `open()
 * "…/nginx.conf" failed`, which names neither the cause nor the fix. The config is not generated here: it is the
 * user's to edit once written, and `nginx init` checks what it needs (server certificate, address) with its own
 * sentences; a start or a test that quietly wrote files would hide that.
 */
export async function requireNginxConfig(layout: FarmLayout): Promise<void> {
  const { mainConf } = nginxPaths(layout, 'local');
  if (!(await exists(mainConf))) {
    throw new FarmError(`The farm has no nginx configuration yet (${mainConf} is missing).`, 'Run `ipxe-farm nginx init` first: it writes the mutual-TLS config once, then it is yours to edit.', 'ENOCONF');
  }
}
