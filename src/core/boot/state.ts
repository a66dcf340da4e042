import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { FarmError } from '../errors';
import { farmLayout, FarmLayout, checkFarmText, farmFileError, issueLines, readFarmText, type Farm, emptyTable, placeholdersOf } from '../farm/light';
import { pkiPaths, CertLookup, emptyIndex, readIndexFile } from '../pki/light';
import { readSecrets, Secrets } from '../secrets/light';
import { BootIssue, checkBootMappings } from './check';
import { attributeIssues, describeRefusals, MappingRefusals } from './refusals';
import { FolderWatch } from './folderWatch';

/**
 * Everything a request needs, swapped whole so a request never sees half of a reload. Its three sources are loaded
 * independently: an error in one never holds back the others, so a revocation or a new secret counts whatever state the
 * farm file is in.
 * - PKI index unreadable: every certificate is refused with that reason (CertLookup.problem): fail closed.
 * - secrets.json unreadable: the profiles that use a secret are refused with that reason; the rest boot.
 * - farm file: a problem in one client's or profile's mapping refuses only those machines (refusals); a problem that
 *   belongs to no mapping (not JSON, a wrong server setting) keeps the last good farm file's mappings, still with the
 *   current PKI index and secrets.
 */
export interface BootState {
  farm: Farm;
  layout: FarmLayout;
  secrets: Secrets;
  certs: CertLookup;
  refusals: MappingRefusals;
  /** What is wrong with the files as they are now, one sentence each, for the service log; empty when nothing is. */
  problems: string[];
  /** Files a mapping names that are not there yet (--allow-missing): their arrival is a change like an edit. */
  awaiting: string[];
  loadedAt: Date;
  /** Scripts rendered from this state, by client/profile/MAC: a state never changes, so neither do they. */
  scripts: Map<string, string>;
}

/** The CA's own reader and its rule (pki/indexRead.ts): an index it would refuse to write over refuses every certificate here. */
async function loadCerts(layout: FarmLayout): Promise<CertLookup> {
  try {
    return new CertLookup(await readIndexFile(pkiPaths(layout).index));
  } catch (err) {
    const why = err instanceof FarmError ? err.message : (err as Error).message;
    return new CertLookup(emptyIndex(), `the farm's PKI index cannot be read, so no certificate can be checked (${why.replace(/\.$/, '')})`);
  }
}

async function loadSecrets(root: string): Promise<{ secrets: Secrets; problem?: string }> {
  try {
    return { secrets: await readSecrets(root) };
  } catch (err) {
    return { secrets: emptyTable(), problem: (err instanceof FarmError ? err.message : (err as Error).message).replace(/\.$/, '') };
  }
}

function usesSecrets(farm: Farm, profile: string): boolean {
  const p = farm.profiles[profile]!;
  return [p.kernel, p.cmdline, ...p.initrds, ...p.extra, ...(p.secretFiles ?? []).map((f) => f.content)].some((t) => {
    try { return placeholdersOf(t).some((x) => x.kind === 'secret'); } catch { return false; }
  });
}

/**
 * Load the three parts and check every mapping against them. `previous` is the state being replaced: its farm is kept
 * when the farm file on disk has a problem that belongs to no mapping. Without one, such a problem is thrown (startup).
 */
export async function loadBootState(root: string, previous?: BootState): Promise<BootState> {
  const layout = farmLayout(root);
  const [certs, sec] = await Promise.all([loadCerts(layout), loadSecrets(root)]);
  const problems: string[] = [];
  if (certs.problem) problems.push(`every certificate is refused: ${certs.problem}`);
  if (sec.problem) problems.push(`profiles that use a secret are refused: ${sec.problem}`);

  // The farm loader's own reading and checking (farm/load.ts), taken in parts: unlike loadFarm, an error that belongs to
  // one mapping refuses only that mapping here, and any other error keeps the last good farm instead of stopping.
  let text: string | undefined;
  let readError: FarmError | undefined;
  try {
    text = await readFarmText(layout);
  } catch (err) {
    readError = err instanceof FarmError ? err : new FarmError((err as Error).message);
  }
  const checked = text === undefined ? undefined : checkFarmText(text);
  const located = (checked?.issues ?? []).filter((i) => i.severity === 'error');
  const globalText = located.filter((i) => attributeIssues([i]).global.length > 0);
  let farm = checked?.farm;
  if (!farm || globalText.length > 0 || readError) {
    const blocking = globalText.length > 0 ? globalText : located;
    if (!previous) throw readError ?? farmFileError(layout.farmFile, blocking);
    problems.push(`kept serving the last good farm: ${readError?.message ?? issueLines(layout.farmFile, blocking).join(' ')}`);
    farm = previous.farm;
  }

  const issues: BootIssue[] = [...(farm === checked?.farm ? located : []), ...checkBootMappings(farm, layout, sec.secrets)];
  const { refusals } = attributeIssues(issues);
  if (sec.problem) {
    for (const name of Object.keys(farm.profiles)) if (usesSecrets(farm, name)) refusals.profiles.set(name, `secrets.json cannot be used: ${sec.problem}`);
  }
  problems.push(...describeRefusals(refusals));
  const awaiting = issues.flatMap((i) => (i.file ? [i.file] : []));
  return { farm, layout, secrets: sec.secrets, certs, refusals, problems, awaiting, loadedAt: new Date(), scripts: new Map() };
}

const watchedByLayout = new WeakMap<FarmLayout, readonly string[]>();

/** Files whose change means "load again". Kept per layout: every request asks (current()), and paths cost to join. */
export function watchedFiles(layout: FarmLayout): readonly string[] {
  let files = watchedByLayout.get(layout);
  if (!files) {
    files = [layout.farmFile, pkiPaths(layout).index, layout.secrets];
    watchedByLayout.set(layout, files);
  }
  return files;
}

/**
 * How a file looked when last read. Identity (inode, size, mtime, ctime in ns) is cheap to compare, but a file written
 * twice within one tick of the kernel's file clock keeps it: until its ctime is RACY_MS old, its content is hashed on
 * every check too (git's "racily clean" rule). An in-place edit with the mtime put back still moves the ctime.
 */
interface Stamp { id: string; hash: string; hashUntil: number }
const RACY_MS = 2000;

async function stampOf(file: string, prev: Stamp | undefined, existenceOnly: boolean): Promise<Stamp> {
  let id: string;
  let ctimeMs: number;
  try {
    const st = await fsp.stat(file, { bigint: true });
    id = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    ctimeMs = Number(st.ctimeNs / 1_000_000n);
  } catch (err) {
    return { id: `absent:${(err as NodeJS.ErrnoException).code}`, hash: '', hashUntil: 0 };
  }
  if (existenceOnly) return { id: 'present', hash: '', hashUntil: 0 };
  if (prev && prev.id === id && Date.now() > prev.hashUntil) return prev;
  let hash: string;
  try {
    hash = createHash('sha256').update(await fsp.readFile(file)).digest('hex');
  } catch (err) {
    hash = `unreadable:${(err as NodeJS.ErrnoException).code}`;
  }
  return { id, hash, hashUntil: ctimeMs + RACY_MS };
}

export interface ReloaderEvents {
  onReload?(state: BootState): void;
  /** A load that failed as a whole (unexpected): the service keeps serving the state it has and says why. */
  onReject?(err: FarmError | Error): void;
}

/** The safety poll: how often the files are compared when nothing was reported (a change inotify cannot see). */
const SAFETY_POLL_MS = 5000;

/**
 * Keeps the current BootState fresh. The folders holding the watched files (and the files a mapping waits for) are
 * watched (FolderWatch): a change reported there counts at once, and `current()` lets a request wait for the reload it
 * causes. Every `intervalMs` the files are also compared with how they were when last loaded, for changes no event
 * reports (a file changed by another host over a network filesystem). Reloads run in the background and swap the
 * state whole; a request uses the state it started with, so none is dropped.
 */
export class BootStateReloader {
  private stamps = new Map<string, Stamp>();
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly watch = new FolderWatch(() => this.reported());
  /** Changes reported by the watch so far, and how many of them `state` has loaded. */
  private changes = 0;
  private loaded = 0;
  private pumping = false;
  private stopped = false;

  constructor(readonly root: string, public state: BootState, private readonly events: ReloaderEvents = {}, private readonly intervalMs = SAFETY_POLL_MS) {}

  async start(): Promise<void> {
    // The first watch and stamps are taken after the caller loaded `state`: load once more, so a change made in between
    // (a revocation while the service was starting) is not left waiting for the next one.
    await this.serially(true);
    this.timer = setInterval(() => { if (!this.inflight) void this.check(); }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    this.watch.close();
  }

  /**
   * Undefined when `state` holds every change to the watched files made before this call, else a promise that resolves
   * once it does: what a request asks before it is answered, so a revocation or a new secret counts at the next one.
   * With every folder watched this costs no system call; a file whose folder is not watched is compared now.
   */
  current(): Promise<void> | undefined {
    if (!watchedFiles(this.state.layout).every((f) => this.watch.watching(f))) return this.check();
    if (this.loaded === this.changes) return undefined;
    return this.until(this.changes);
  }

  /** Check now (also called by the interval); resolves when any reload is done, including one already under way. */
  check(): Promise<void> {
    return this.serially(false);
  }

  /** One check at a time, so that an older load never replaces a newer one. */
  private async serially(first: boolean): Promise<void> {
    while (this.inflight) await this.inflight;
    this.inflight = this.checkOnce(first).finally(() => { this.inflight = undefined; });
    return this.inflight;
  }

  private reported(): void {
    this.changes++;
    if (this.pumping) return;
    this.pumping = true;
    void (async () => { while (this.loaded < this.changes) await this.check(); })()
      .catch((err: Error) => this.events.onReject?.(err))
      .finally(() => { this.pumping = false; });
  }

  /** Until `state` has loaded the first `change` reported changes. */
  private async until(change: number): Promise<void> {
    while (this.loaded < change) await this.check();
  }

  private watchFiles(): void {
    if (!this.stopped) this.watch.set([...watchedFiles(this.state.layout), ...this.state.awaiting]);
  }

  /** Take new stamps; true when any file differs from its last stamp (the first call only records them). */
  private async changed(): Promise<boolean> {
    const files = [...watchedFiles(this.state.layout).map((f) => [f, false] as const), ...this.state.awaiting.map((f) => [f, true] as const)];
    const next = new Map<string, Stamp>();
    await Promise.all(files.map(async ([f, existenceOnly]) => { next.set(f, await stampOf(f, this.stamps.get(f), existenceOnly)); }));
    const first = this.stamps.size === 0;
    // A file a mapping waits for is new in the list after the load that found it missing: only its arrival counts.
    const differs = [...next].some(([f, s]) => { const p = this.stamps.get(f); return p ? p.id !== s.id || p.hash !== s.hash : s.id === 'present'; });
    this.stamps = next;
    return !first && differs;
  }

  private async checkOnce(first: boolean): Promise<void> {
    const reportedSoFar = this.changes;
    // A folder whose watch was lost is watched again before the stamps are taken, and stamps before loading: a change
    // made during the load is reported, or shows at the next check.
    this.watchFiles();
    if ((await this.changed()) || reportedSoFar !== this.loaded || first) await this.reload(!first);
    this.loaded = reportedSoFar;
    this.watchFiles();
  }

  private async reload(tell = true): Promise<void> {
    try {
      this.state = await loadBootState(this.root, this.state);
      if (tell) this.events.onReload?.(this.state);
    } catch (err) {
      this.events.onReject?.(err as Error);
    }
  }
}
