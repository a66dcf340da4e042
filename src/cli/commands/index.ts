import type { CliCommand } from '../framework';
import { farmCommands } from './farm';
import { configCommands } from './config';
import { pkiCommands } from './pki';
import { nginxCommands } from './nginx';
import { serveCommands } from './serve';
import { bootCommands } from './boot';
import { ipxeCommands } from './ipxe';
import { qemuCommands } from './qemu';
import { doctorCommands } from './doctor';
import { demoCommands } from './demo';
import { boardCommands, metricsCommands } from './board';
import { consoleCommands } from './console';
import { verdictCommands } from './verdict';

/** Every CLI command, in the order `ipxe-farm --help` lists them (the seed's chapters: CA, nginx, app, iPXE, QEMU). */
export const allCommands: CliCommand[] = [
  ...farmCommands,
  ...configCommands,
  ...pkiCommands,
  ...nginxCommands,
  ...serveCommands,
  ...bootCommands,
  ...ipxeCommands,
  ...qemuCommands,
  ...boardCommands,
  ...consoleCommands,
  ...verdictCommands,
  ...metricsCommands,
  ...doctorCommands,
  ...demoCommands,
];
