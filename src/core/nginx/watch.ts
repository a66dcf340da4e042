import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FarmLayout } from '../farm/light';
import { ReloadOnSave } from './reloadOnSave';

/**
 * Feed a ReloadOnSave from the file system (the CLI's `nginx watch`; the editor uses its own save event instead).
 * One plain watch per folder, not files and not `recursive`: editors save by writing a temp file and renaming it over
 * the old one, which a file watch (and Node 20's recursive watch on Linux) stops seeing after the first save, while a
 * folder's watch reports every rename into it by the target's name.
 */
export function watchNginxFiles(layout: FarmLayout, reloader: ReloadOnSave): { close(): void } {
  const watchers = new Map<string, fs.FSWatcher>();
  const add = (dir: string, tree: boolean) => {
    if (watchers.has(dir)) return;
    try {
      const w = fs.watch(dir, (_event, name) => {
        if (!name) return;
        const file = path.join(dir, name.toString());
        if (tree && !watchers.has(file)) {
          try { if (fs.statSync(file).isDirectory()) add(file, true); } catch { /* removed again */ }
        }
        void reloader.saved(file);
      });
      w.on('error', () => { w.close(); watchers.delete(dir); });
      watchers.set(dir, w);
    } catch {
      return; // a folder that does not exist yet (no PKI) has nothing to watch
    }
    if (tree) {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) add(path.join(dir, e.name), true);
    }
  };
  add(layout.nginx, true);
  add(layout.pki, false);
  add(path.join(layout.pki, 'issued'), false);
  add(path.join(layout.pki, 'private'), false);
  return { close: () => { for (const w of watchers.values()) w.close(); watchers.clear(); } };
}
