/** The qemu part of the core, as the CLI and the editor use it. */
export type { BootMedium } from './args';
export { clientLaunchOptions, farmNetwork } from './client';
export { lastMadeImage } from './lastMade';
export { launchQemu, type QemuHandle, type QemuResult } from './launch';
export { formatStages } from './stages';
export type { ClientBootOptions } from './client';
export { bootHeadless } from './launch';
export { LINUX_MARKER_RE, ensureTestKernel } from './testKernel';
