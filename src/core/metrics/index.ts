/** The metrics part of the core, as the CLI and the editor use it. */
export { farmMetrics } from './collect';
export { metricsListen, startMetricsServer } from './serve';
