/** The stock part of the core cheap enough for the editor and the boot service to load at start: no node-forge, no child processes (the arch test checks). */
export { findOvmf, requireOvmf } from './ovmf';
export { sha256File, sha256PinLines } from './pins';
