/** The qemu part of the core, as the CLI and the editor use it. */
export type { BootMedium } from './args';
export { clientLaunchOptions, farmNetwork } from './client';
export { lastMadeImage } from './lastMade';
export { launchQemu, type QemuHandle, type QemuResult } from './launch';
export { formatStages } from './stages';
