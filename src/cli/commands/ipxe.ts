import type { CliCommand } from '../framework';

export const ipxeCommands: CliCommand[] = [];
