/** The deploy part of the core, as the CLI and the editor use it. */
export { writeDeployUnits } from './write';
