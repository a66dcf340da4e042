/** Processes looked at without starting one (a program on PATH, a pid alive): no node-forge, no child process (the arch test checks). */
export { pidAlive, pidRuns } from './alive';
export { which } from './which';
