/** The ipxe part of the core cheap enough for the editor to load at activation: no node-forge, no child processes (the arch test checks). */
export type { ImageStatus } from './build';
