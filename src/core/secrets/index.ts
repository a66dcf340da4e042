/** The secrets part of the core, as the CLI and the editor use it. */
export { listSecretNames, readSecrets, removeSecret, setSecret } from './store';
