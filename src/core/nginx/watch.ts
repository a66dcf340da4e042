import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FarmLayout } from '../farm/layout';
import { ReloadOnSave } from './reloadOnSave';

/**
 * Feed a ReloadOnSave from the file system (the CLI's `nginx watch`; the editor uses its own save event instead).
 * Watches folders, not files: editors save by writing a temp file and renaming it over the old one.
 */
export function watchNginxFiles(layout: FarmLayout, reloader: ReloadOnSave): { close(): void } {
  const watchers: fs.FSWatcher[] = [];
  const add = (dir: string, recursive: boolean) => {
    try {
      watchers.push(fs.watch(dir, { recursive }, (_event, name) => {
        if (name) void reloader.saved(path.join(dir, name.toString()));
      }));
    } catch { /* a folder that does not exist yet (no PKI) has nothing to watch */ }
  };
  add(layout.nginx, true);
  add(layout.pki, false);
  add(path.join(layout.pki, 'issued'), false);
  add(path.join(layout.pki, 'private'), false);
  return { close: () => { for (const w of watchers) w.close(); } };
}
