import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/**
 * The text of every file under nginx/ (the user may add includes anywhere there), by absolute path: line-less
 * `nginx -t` messages are placed by finding what they quote in these.
 */
export async function readConfigSources(confDir: string, limit = 200): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[] = [];
    try { entries = await fsp.readdir(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (Object.keys(out).length >= limit) return;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && !e.name.startsWith('.')) {
        const st = await fsp.stat(p).catch(() => undefined);
        if (st && st.size < 1024 * 1024) out[p] = await fsp.readFile(p, 'utf8').catch(() => '');
      }
    }
  };
  await walk(confDir);
  return out;
}
