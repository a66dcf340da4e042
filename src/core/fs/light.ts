/** The fs part of the core cheap enough for the editor and the boot service to load at start: no node-forge, no child processes (the arch test checks). */
export { ensureDir, exists, writeFileAtomic } from './atomic';
export { userCacheDir } from './cacheDir';
export { parseJsonLine, parseJsonRecord } from './jsonRecord';
