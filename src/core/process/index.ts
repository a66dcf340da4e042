/** Child processes, all through execa (the one way this project starts a program). Looking at processes without starting one is in light.ts. */
export { run, runOk, start } from './run';
