import type { CliCommand } from '../framework';

export const pkiCommands: CliCommand[] = [];
