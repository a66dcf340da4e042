import * as fs from 'node:fs';
import * as path from 'node:path';

/** Absolute path of a program on PATH, or undefined. Apart from run.ts so asking it does not load execa. */
export function which(program: string, envPath = process.env.PATH ?? ''): string | undefined {
  if (program.includes('/')) return fs.existsSync(program) ? program : undefined;
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch { /* not here */ }
  }
  return undefined;
}
