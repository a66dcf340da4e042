/** The farm part of the core, as the CLI and the editor use it. */
export { CLIENT_ARCHES, CPU_ARCHES } from './arch';
export { parseSettings, setClientBoard } from './boardEdit';
export { openFarm, type FarmHandle } from './handle';
export { initFarm } from './init';
export { farmLayout } from './layout';
export { findFarmRoot } from './load';
export { starterFarm, type Farm, type ImageTarget, type NginxRuntimeKind } from './model';
export { nameProblem, profileOf, type NameKind } from './rules';
export { getSetting, parseSettingValue, setSetting } from './settings';
export { emptyTable } from './table';
export { normaliseMac } from './validate';
