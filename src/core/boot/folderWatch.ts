import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Tells when one of a set of files may have changed, by watching the folders that hold them (inotify through fs.watch).
 * The folder and not the file: the product writes by rename (fs/atomic.ts), and a watch on a file follows its old inode
 * away. Events for other names in those folders (temporary files, editors' swap files) are ignored. A folder that cannot
 * be watched (missing, inotify limits, an event that says the folder itself moved) leaves its files unwatched, and
 * `watching` says so: the caller then has to look at them itself.
 */
export class FolderWatch {
  private readonly folders = new Map<string, { names: Set<string>; watcher?: fs.FSWatcher }>();

  constructor(private readonly onChange: () => void) {}

  /** Watch exactly these files' folders from now on; folders no longer needed are let go, failed ones tried again. */
  set(files: readonly string[]): void {
    const wanted = new Map<string, Set<string>>();
    for (const f of files) {
      const dir = path.dirname(f);
      if (!wanted.has(dir)) wanted.set(dir, new Set());
      wanted.get(dir)!.add(path.basename(f));
    }
    for (const [dir, entry] of this.folders) {
      if (!wanted.has(dir)) { entry.watcher?.close(); this.folders.delete(dir); }
    }
    for (const [dir, names] of wanted) {
      const entry = this.folders.get(dir) ?? { names };
      entry.names = names;
      this.folders.set(dir, entry);
      if (!entry.watcher) entry.watcher = this.arm(dir);
    }
  }

  /** True when a change to this file is reported as it happens. */
  watching(file: string): boolean {
    return this.folders.get(path.dirname(file))?.watcher !== undefined;
  }

  close(): void {
    for (const entry of this.folders.values()) entry.watcher?.close();
    this.folders.clear();
  }

  private arm(dir: string): fs.FSWatcher | undefined {
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(dir, { persistent: false });
    } catch {
      return undefined;
    }
    const own = path.basename(dir);
    const drop = (): void => {
      watcher.close();
      const entry = this.folders.get(dir);
      if (entry?.watcher === watcher) entry.watcher = undefined;
    };
    watcher.on('change', (_kind, name) => {
      const entry = this.folders.get(dir);
      if (!entry || entry.watcher !== watcher) return;
      const file = name === null ? null : String(name);
      // No name (the kernel's queue overflowed) or the folder's own name (it was moved or deleted: inotify reports the
      // watched path itself) can hide any change; after the latter the watch no longer sees the files at that path.
      if (file === own && !entry.names.has(own)) drop();
      if (file === null || file === own || entry.names.has(file)) this.onChange();
    });
    watcher.on('error', () => { drop(); this.onChange(); });
    return watcher;
  }
}
