import * as vscode from 'vscode';
import * as path from 'node:path';
import { findFarmRoot } from '../core/farm/light';
import { FarmSnapshot, readSnapshot } from './model/farmSnapshot';
import { ImageStates } from './model/imageStates';
import { editorPrograms, settings } from './settings';

/**
 * The farm this window works with and the one snapshot the trees read. File watchers (not polling) on the farm file,
 * the PKI index, the boot events and the build outputs trigger a re-read, debounced so a burst of writes (a bulk
 * issue) costs one refresh.
 */
export class FarmState implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FarmSnapshot | undefined>();
  readonly onDidChange = this.changed.event;
  snapshot: FarmSnapshot | undefined;
  /** Resolves when the first look for the farm is done; activation does not wait for it, commands do. */
  ready: Promise<unknown> = Promise.resolve();
  /** How long the last read of farm file, PKI index and boot events took (the benchmark reports it). */
  lastReadMs = 0;
  private watchers: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<FarmSnapshot | undefined> | undefined;
  /** Core's image verdicts, cached across reads; the iPXE source is the one Build Image would use. */
  readonly images = new ImageStates(() => {
    const src = settings().ipxeSource;
    return src ? { ...process.env, IPXE_SRC: src } : process.env;
  });
  /** Resolves when the image states of the last read are all worked out (tests wait for it). */
  imagesChecked: Promise<void> = Promise.resolve();

  get root(): string | undefined {
    return this.snapshot?.root;
  }

  /** Look for the farm (first workspace folder or above), watch it, read it. */
  async locate(): Promise<string | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const root = folder ? await findFarmRoot(folder) : undefined;
    const usable = root && folder && (root === folder || root.startsWith(folder + path.sep) || folder.startsWith(root + path.sep)) ? root : undefined;
    if (usable !== this.snapshot?.root) this.watch(usable);
    // The context key goes to the workbench (busy at start-up) while the farm is read: neither waits for the other.
    const context = vscode.commands.executeCommand('setContext', 'ipxeFarm.hasFarm', usable !== undefined);
    if (!usable) {
      this.snapshot = undefined;
      this.changed.fire(undefined);
      await context;
      return undefined;
    }
    await Promise.all([this.refresh(usable), context]);
    return usable;
  }

  private watch(root: string | undefined): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    if (!root) return;
    const base = vscode.Uri.file(root);
    for (const glob of ['ipxe-farm.json', 'pki/index.json', '.ipxe-farm/boot-events.jsonl', 'ipxe/*/out/*']) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(base, glob));
      this.watchers.push(w, w.onDidChange(() => this.soon()), w.onDidCreate(() => this.soon()), w.onDidDelete(() => this.soon()));
    }
  }

  private soon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; void this.refresh(); }, 150);
  }

  /** Re-read now; resolves with the new snapshot once the trees have been told. */
  refresh(root = this.snapshot?.root): Promise<FarmSnapshot | undefined> {
    if (!root) return Promise.resolve(undefined);
    const next = (this.reading ?? Promise.resolve(undefined)).then(async () => {
      const t0 = performance.now();
      const snap = await readSnapshot(root, this.images, { programs: editorPrograms() });
      this.snapshot = snap;
      this.lastReadMs = performance.now() - t0;
      this.changed.fire(snap);
      if (snap.imagePending.length) {
        // Core's verdicts arrive after the tree is on screen; then one more (cheap, cached) read shows them.
        this.imagesChecked = this.images.check(root, snap.imagePending).then(() => this.refresh(root)).then(() => undefined, () => undefined);
      }
      return snap;
    });
    this.reading = next.catch(() => undefined);
    return next;
  }

  dispose(): void {
    for (const w of this.watchers) w.dispose();
    if (this.timer) clearTimeout(this.timer);
    this.changed.dispose();
  }
}
