/** The stock part of the core, as the CLI and the editor use it. */
export { buildStockImage } from './image';
export { aptOptions, machineDebianMirror } from './debianPackage';
export { STOCK_IMAGE, STOCK_RECORD, STOCK_VARS } from './image';
