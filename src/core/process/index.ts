/** The process part of the core, as the CLI, the editor and the other core domains use it. */
export { run, runOk, start } from './run';
