import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { startBootService, BootService } from '../../../src/core/boot/service';
import { generateNginxConfig } from '../../../src/core/nginx/generate';
import { createNginxRuntime } from '../../../src/core/nginx/createRuntime';
import { nginxPaths } from '../../../src/core/nginx/paths';
import type { NginxRuntime } from '../../../src/core/nginx/runtime';
import { which } from '../../support/farm';
import { testKernelUnavailable } from '../../support/kernel';
import { openFarm } from '../../../src/core/farm/handle';

/** What the end-to-end boots share: the product's nginx (local runtime, kept on 127.0.0.1) and boot service. */

export function missingTools(tools: string[]): string | undefined {
  for (const tool of tools) {
    if (!which(tool) && !fs.existsSync(`/usr/sbin/${tool}`)) return `SKIPPED LOUDLY: ${tool} is not installed, so the end-to-end boot cannot run here`;
  }
  return testKernelUnavailable();
}

/** A 10.0.2.x farm exists only through QEMU's guestfwd: the generated nginx must listen on loopback alone. */
function assertListensOnLoopback(root: string): void {
  const dir = farmLayout(root).nginx;
  for (const rel of (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.conf'))) {
    for (const m of fs.readFileSync(path.join(dir, rel), 'utf8').matchAll(/^\s*listen\s+([^;]+);/gm)) {
      if (!m[1]!.startsWith('127.0.0.1:')) throw new Error(`${rel}: "listen ${m[1]}" would expose a test farm beyond loopback`);
    }
  }
}

export interface FarmServers {
  nginx: NginxRuntime;
  service: BootService;
  accessLog(): string;
  stop(): Promise<void>;
}

export async function startFarmServers(root: string, log: (line: string) => void): Promise<FarmServers> {
  // nginx's workers (www-data when started as root) must be able to walk into the farm, as into a home folder.
  fs.chmodSync(path.dirname(root), 0o711);
  await generateNginxConfig(await openFarm(root), { force: true });
  assertListensOnLoopback(root);
  const service = await startBootService({ root, log, reloadIntervalMs: 200 });
  const nginx = createNginxRuntime(await openFarm(root), 'local');
  try {
    await nginx.up();
  } catch (err) {
    await service.close();
    throw err;
  }
  return {
    nginx,
    service,
    accessLog: () => fs.readFileSync(nginxPaths(farmLayout(root), 'local').accessLog, 'utf8'),
    async stop() {
      await nginx.down().catch(() => undefined);
      await service.close().catch(() => undefined);
    },
  };
}
