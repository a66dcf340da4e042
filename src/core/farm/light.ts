/** The farm part of the core cheap enough for the editor to load at activation: no node-forge, no child processes (the arch test checks). */
export { clientArch } from './arch';
export { openFarm, type FarmHandle, type OpenOptions } from './handle';
export { initFarm } from './init';
export { positionOf } from './jsonLocate';
export { farmLayout } from './layout';
export { findFarmRoot, type LoadedFarm } from './load';
export { FARM_FILE, type Client, type Farm, type NginxRuntimeKind, type Profile } from './model';
export { profileOf } from './rules';
export type { FarmPrograms } from './runtimeChoice';
