import * as fsp from 'node:fs/promises';
import { FarmError } from '../errors';
import { farmLayout, FarmLayout } from '../farm/layout';
import { checkFarmText } from '../farm/load';
import type { Farm } from '../farm/model';
import { pkiPaths } from '../pki/paths';
import { readSecrets, Secrets } from '../secrets/store';
import { checkBootMappings } from './check';
import { CertLookup, readIndexForBoot } from './pkiLookup';

/** Everything a request needs, loaded together and swapped whole, so a request never sees half of a reload. */
export interface BootState {
  farm: Farm;
  layout: FarmLayout;
  secrets: Secrets;
  certs: CertLookup;
  loadedAt: Date;
  /** Scripts rendered from this state, by client/profile/MAC: a state never changes, so neither do they. */
  scripts: Map<string, string>;
}

/** Load and check farm file, PKI index and secrets; throws a FarmError listing every problem when any is an error. */
export async function loadBootState(root: string): Promise<BootState> {
  const layout = farmLayout(root);
  let text: string;
  try {
    text = await fsp.readFile(layout.farmFile, 'utf8');
  } catch (err) {
    throw new FarmError(`Cannot read ${layout.farmFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, 'Run `ipxe-farm init`, or pass --farm DIR.', 'ENOFARM');
  }
  const { farm, issues } = checkFarmText(text);
  const secrets = await readSecrets(root);
  const all = [...issues.filter((i) => i.severity === 'error').map((i) => `${layout.farmFile}:${i.at.line + 1}:${i.at.column + 1}: ${i.message}`)];
  if (farm && all.length === 0) {
    for (const i of checkBootMappings(farm, layout, secrets)) if (i.severity === 'error') all.push(`${layout.farmFile} ${i.pointer}: ${i.message}`);
  }
  if (!farm || all.length > 0) {
    throw new FarmError(all.length === 1 ? all[0]! : `The farm has ${all.length} problems:\n  ${all.join('\n  ')}`, 'Fix the farm file (or secrets.json).', 'EFARMFILE');
  }
  const certs = new CertLookup(await readIndexForBoot(layout));
  return { farm, layout, secrets, certs, loadedAt: new Date(), scripts: new Map() };
}

/** Files whose change means "load again". */
export function watchedFiles(layout: FarmLayout): string[] {
  return [layout.farmFile, pkiPaths(layout).index, layout.secrets];
}

async function signature(files: string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (f) => {
      try {
        const s = await fsp.stat(f);
        // Atomic writes replace the inode; size and mtime catch in-place edits.
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return 'absent';
      }
    }),
  );
  return parts.join('|');
}

export interface ReloaderEvents {
  onReload?(state: BootState): void;
  /** A change that does not load: the service keeps serving the last good state and says why. */
  onReject?(err: FarmError | Error): void;
}

/**
 * Keeps the current BootState fresh: checks the watched files' identity (inode, size, mtime) at most every
 * `intervalMs`, and on a change loads in the background and swaps. Requests keep using the state they started with;
 * nothing waits for a reload, so none is dropped.
 */
export class BootStateReloader {
  private sig = '';
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private rejectedSig = '';

  constructor(readonly root: string, public state: BootState, private readonly events: ReloaderEvents = {}, private readonly intervalMs = 250) {}

  async start(): Promise<void> {
    this.sig = await signature(watchedFiles(this.state.layout));
    this.timer = setInterval(() => { if (!this.inflight) void this.check(); }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Check now (also called by the interval); resolves when any reload is done, including one already under way. */
  async check(): Promise<void> {
    while (this.inflight) await this.inflight;
    this.inflight = this.checkOnce().finally(() => { this.inflight = undefined; });
    return this.inflight;
  }

  private async checkOnce(): Promise<void> {
    const sig = await signature(watchedFiles(this.state.layout));
    if (sig === this.sig || sig === this.rejectedSig) return;
    try {
      const next = await loadBootState(this.root);
      // The files may have changed again while loading; the next check catches that.
      this.state = next;
      this.sig = sig;
      this.rejectedSig = '';
      this.events.onReload?.(next);
    } catch (err) {
      this.rejectedSig = sig;
      this.events.onReject?.(err as Error);
    }
  }
}
