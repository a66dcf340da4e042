/** The demo part of the core, as the CLI and the editor use it. */
export { runDemo, type DemoStage } from './demo';
