/** The nginx part of the core cheap enough for the editor to load at activation: no node-forge, no child processes (the arch test checks). */
export type { NginxDiagnostic } from './diagnostics';
export type { ReloadOnSave, ReloadOutcome } from './reloadOnSave';
export type { NginxRuntime } from './runtime';
export { generateNginxConfig } from './generate';
export { describeSocketReach } from './socketReach';
