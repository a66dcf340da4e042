/** The doctor part of the core, as the CLI and the editor use it. */
export { formatChecks, runChecks, socketReachCheck } from './checks';
export { NO_PXEDHCP_LINES, dhcpAdvice } from './dhcpAdvice';
