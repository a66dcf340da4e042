/** The file-system part that needs a child process: the farm's file locks. Atomic writes, the cache folder and checked JSON records are in light.ts. */
export { describeHolder, withFileLock } from './fileLock';
