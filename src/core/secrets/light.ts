/** The secrets part of the core cheap enough for the editor and the boot service to load at start: no node-forge, no child processes (the arch test checks). */
export { LOG_MASK, StreamMasker, maskSecrets, maskValues } from './mask';
export { readSecrets, secretsExposure, setSecret, type Secrets } from './store';
