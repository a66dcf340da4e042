import type { CliCommand } from '../framework';

export const nginxCommands: CliCommand[] = [];
