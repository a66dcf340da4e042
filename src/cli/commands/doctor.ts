import type { CliCommand } from '../framework';

export const doctorCommands: CliCommand[] = [];
