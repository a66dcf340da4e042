/** The ipxe part of the core cheap enough for the editor to load at activation: no node-forge, no child processes (the arch test checks). */
export type { ImageStatus } from './build';
export { decodeIpxeError, describeIpxeError, type IpxeErrorInfo } from './errors';
export { ipxeHex, pemToDer } from './identityHex';
export { clientOutDir, readManifest } from './manifest';
export { REFUSED_HEADLINE } from './refusalText';
export { SCRIPT_MARKERS, checkScriptHost, clientEmbeddedScript, urlHost, type EmbeddedScriptOptions } from './script';
export { UnsafeValueError, echoText, isEchoSafe, safeLine, type Piece } from './scriptLine';
