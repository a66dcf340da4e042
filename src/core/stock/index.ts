/** The stock part of the core, as the CLI and the editor use it. */
export { buildStockImage } from './image';
