/**
 * The nginx part of the core, as the CLI and the editor use it:
 *   generateNginxConfig(openedFarm)              write nginx/ once (refuses to overwrite unless { force })
 *   createNginxRuntime(openedFarm)               the NginxRuntime (podman or local): up, down, status, test, reload, logs, follow
 *   new ReloadOnSave(runtime, layout, { onOutcome })  .saved(file) on every save -> test, reload only if it passes,
 *                                                the complete diagnostics set; dispose() when done
 *   watchNginxFiles(layout, reloader)            the CLI's fs.watch feed for the same ReloadOnSave
 *   parseNginxTestOutput(stderr, pathMap)        nginx -t output -> diagnostics on workspace files
 */
export { generateNginxConfig, renderNginxConfig, isLoopbackAddress, IPXE_SSL_CIPHERS, IPXE_SSL_PROTOCOLS, type GeneratedFile } from './generate';
export { createNginxRuntime } from './createRuntime';
export { LocalNginxRuntime } from './localRuntime';
export { PodmanNginxRuntime } from './podmanRuntime';
export { NginxConfigError, type NginxRuntime, type NginxStatus, type NginxState, type NginxTestResult, type NginxReloadResult, type LogFollower, type LogSink } from './runtime';
export { parseNginxTestOutput, formatDiagnostic, type NginxDiagnostic, type PathMap } from './diagnostics';
export { ReloadOnSave, type ReloadOutcome, type ReloadOnSaveOptions } from './reloadOnSave';
export { watchNginxFiles } from './watch';
export { nginxPaths, type NginxPaths } from './paths';
export { localWorkerGid, localWorkerGroupName } from '../socket/light';
export { readRunRecord, type NginxRunRecord } from '../farm/light';
export { chooseNginxImage } from './imageChoice';
export { buildLocalNginxImage } from './localImage';
export { reloadNginxForCrl } from './reloadForCrl';
export { requireNginxConfig } from './requireConfig';
export { describeSocketReach } from './socketReach';
export { switchNginxRuntime } from './switchRuntime';
export { OFFICIAL_NGINX_IMAGE } from './imageChoice';
export { formatPodmanFix, probePodman } from './podmanProbe';
