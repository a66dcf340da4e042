/** Files written whole or not at all, the user's cache folder and checked JSON records: no node-forge, no child process (the arch test checks). */
export { ensureDir, exists, writeFileAtomic } from './atomic';
export { userCacheDir } from './cacheDir';
export { parseJsonLine, parseJsonRecord } from './jsonRecord';
