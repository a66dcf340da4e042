/** The verdict part of the core cheap enough for the editor to load at activation: no node-forge, no child processes (the arch test checks). */
export { farmHealth, type ClientHealth } from './health';
export type { VerdictStages } from './follow';
export { readVerdicts } from './health';
