/** The verdict part of the core, as the CLI and the editor use it. */
export { bootVerdict, type BootVerdict, type BootVerdictOptions } from './boot';
export { formatVerdictStages } from './follow';
export { DEFAULT_HEALTH, farmHealth, healthOf, readVerdicts } from './health';
