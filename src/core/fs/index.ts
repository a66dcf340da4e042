/** The fs part of the core, as the CLI, the editor and the other core domains use it. */
export { describeHolder, withFileLock } from './fileLock';
