/** The boot part of the core cheap enough for the editor to load at activation: no node-forge, no child processes (the arch test checks). */
export { checkFarmWithBoot } from './check';
export { readLastBoots } from './events';
export { readBootEvents, type BootEvent } from './events';
export { WHY_PATH } from './handler';
export { startBootService, type BootService } from './service';
