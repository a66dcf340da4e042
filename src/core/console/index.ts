import { FarmError } from '../errors';
import type { Farm } from '../farm/light';
import { requireClient } from '../power';
import { serialConsole } from './serial';
import type { ConsoleStream } from './stream';
import { tcpConsole } from './tcp';

export type { ConsoleStream, ConsoleState } from './stream';

/** True when the console is QEMU's own serial port (no console section, or driver "qemu"). */
export function isQemuConsole(farm: Farm, client: string): boolean {
  const c = farm.clients[client]?.console;
  return !c || c.driver === 'qemu';
}

/** Open a real board's console (it connects, and reconnects, in the background: see ConsoleStream.onState). */
export function openConsole(farm: Farm, client: string): ConsoleStream {
  const c = requireClient(farm, client).console;
  if (!c || c.driver === 'qemu') {
    throw new FarmError(
      `${client}'s console is QEMU's serial port, which exists only while iPXE Farm runs its QEMU.`,
      `Use \`ipxe-farm qemu ${client}\` or \`ipxe-farm boot ${client}\`, or give it a "console" section in ipxe-farm.json.`,
      'EQEMUCONSOLE',
    );
  }
  return c.driver === 'tcp' ? tcpConsole(client, c) : serialConsole(client, c);
}
export { ConsoleRecorder, consoleLogFile } from './record';
