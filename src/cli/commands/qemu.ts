import type { CliCommand } from '../framework';

export const qemuCommands: CliCommand[] = [];
