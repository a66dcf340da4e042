/**
 * The boot service part of the core, as the CLI and the editor use it:
 *   startBootService({ root })          the service on the farm's unix socket (ipxe-farm serve)
 *   explainBoot(root, clientOrSha1)     which profile a client/certificate gets and why, with the script (masked)
 *   checkFarmWithBoot(root, text?)      farm-file + boot-mapping problems with text positions (Problems panel)
 *   readLastBoots(root)                 the newest boot event per client ("last boot")
 *   renderScript / selectBoot           the pure steps, for previews and tests
 */
export { startBootService, type BootService, type BootServiceOptions } from './service';
export { explainBoot, type Explanation } from './explain';
export { checkBootMappings, checkFarmWithBoot } from './check';
export { readLastBoots, readBootEvents, type BootEvent } from './events';
export { renderScript, serverHttp, RenderError, type RenderInput, type RenderedScript } from './render';
export { selectBoot, type BootDecision, type BootIdentity } from './select';
export { loadBootState, BootStateReloader, type BootState } from './state';
export { safeLine, UnsafeValueError } from '../ipxe/light';
export { clientScript } from './clientScript';
export { addProfile, parseSecretFileArg, removeClient, removeProfile, secretRemovalProblem, servableCheck, setClient, setProfile, type ProfileFields } from './mappings';
