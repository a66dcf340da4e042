/** The boot part of the core cheap enough for the editor to load at activation: no node-forge, no child processes (the arch test checks). */
export { checkFarmWithBoot } from './check';
export { readLastBoots } from './events';
