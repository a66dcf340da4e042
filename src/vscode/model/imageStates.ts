import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { ImageStatus } from '../../core/ipxe/build';
import { farmLayout } from '../../core/farm/layout';
import { pkiPaths } from '../../core/pki/paths';

/** What the Clients tree shows of an image: core's verdict, or "checking" until core has given one. */
export interface ImageView {
  state: 'built' | 'stale' | 'missing' | 'checking';
  /** Core's reasons (why stale or missing), one sentence each. */
  reasons: string[];
  target?: string;
}

/** core/ipxe/manifest's MANIFEST_FILE, not imported: that module pulls node-forge in (the workflow-boot suite checks they agree). */
export const MANIFEST_FILE = 'manifest.json';

const MISSING: ImageView = { state: 'missing', reasons: ['No image has been built for this client yet.'] };

type Compute = (root: string, client: string, target: string | undefined, env: NodeJS.ProcessEnv) => Promise<ImageStatus>;

/**
 * Core's hash-based imageState per client, cached under a key made of the sizes and mtimes of what it reads (farm
 * file, image manifest, the out folder, CA and client certificate), so a refresh costs a few stats per built client
 * and core's work (parsing certificates, hashing the script) runs only when an input changed. Clients without a
 * manifest are "missing" at once; the others are computed one at a time in the background, never on the tree's path.
 */
export class ImageStates {
  private readonly cache = new Map<string, { key: string; view: ImageView }>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly env: () => NodeJS.ProcessEnv = () => process.env,
    // Loaded on first use: core's build module brings node-forge and execa, which activation need not pay for.
    private readonly compute: Compute = async (root, client, target, env) => (await import('../../core/ipxe/build')).imageStateAt(root, client, target as never, { env }),
  ) {}

  /**
   * The view of every client right now (sync lookups for the tree) plus the clients whose inputs changed since core
   * last looked. `defaultTarget` is the farm's first ipxe target.
   */
  async snapshot(root: string, clients: string[]): Promise<{ lookup: (client: string) => ImageView; pending: { client: string; key: string }[] }> {
    const layout = farmLayout(root);
    let dirs: Set<string>;
    try { dirs = new Set(await fsp.readdir(layout.ipxe)); } catch { dirs = new Set(); }
    const p = pkiPaths(layout);
    const farmStat = await statKey(layout.farmFile);
    const caStat = await statKey(p.caCert);
    const views = new Map<string, ImageView>();
    const pending: { client: string; key: string }[] = [];
    await Promise.all(clients.filter((c) => dirs.has(c)).map(async (client) => {
      const out = path.join(layout.ipxe, client, 'out');
      const manifest = await statKey(path.join(out, MANIFEST_FILE));
      if (manifest === '-') return;
      const key = [farmStat, caStat, manifest, await statKey(out), await statKey(p.clientCert(client))].join('|');
      const have = this.cache.get(client);
      if (have?.key === key) { views.set(client, have.view); return; }
      views.set(client, { state: 'checking', reasons: ['Comparing the image with what it is built from…'], target: have?.view.target });
      pending.push({ client, key });
    }));
    return { lookup: (client) => views.get(client) ?? MISSING, pending };
  }

  /** Asks core about each pending client, one at a time; resolves when all are cached. */
  check(root: string, pending: { client: string; key: string }[]): Promise<void> {
    const run = async () => {
      for (const { client, key } of pending) {
        if (this.cache.get(client)?.key === key) continue;
        let view: ImageView;
        try {
          view = await this.one(root, client);
        } catch (err) {
          view = { state: 'stale', reasons: [`The image state could not be read: ${(err as Error).message}`] };
        }
        this.cache.set(client, { key, view });
      }
    };
    // Chained: two refreshes in a row never run core twice at once for the same client.
    const next = (this.running ?? Promise.resolve()).then(run);
    this.running = next.catch(() => undefined);
    return next;
  }

  private async one(root: string, client: string): Promise<ImageView> {
    const env = this.env();
    const first = await this.compute(root, client, undefined, env);
    if (first.state !== 'missing' || first.record) return { state: first.state, reasons: first.reasons, target: first.target };
    // Only another target was built (an EFI image where the farm lists iso first): show that one.
    const { readManifest } = await import('../../core/ipxe/manifest');
    const manifest = await readManifest(farmLayout(root), client).catch(() => undefined);
    const other = Object.keys(manifest?.images ?? {}).find((t) => t !== first.target);
    if (!other) return { state: first.state, reasons: first.reasons, target: first.target };
    const s = await this.compute(root, client, other, env);
    return { state: s.state, reasons: s.reasons, target: s.target };
  }
}

async function statKey(file: string): Promise<string> {
  try {
    const s = await fsp.stat(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return '-';
  }
}
