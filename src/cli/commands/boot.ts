import type { CliCommand } from '../framework';

export const bootCommands: CliCommand[] = [];
