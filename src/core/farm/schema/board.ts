import * as z from 'zod';
import { isHostName } from '../../net/light';
import { parseTemplate, TemplateError } from '../template';
import { NAME_PATTERN } from '../names';
import { AT, nonEmpty, oneOf, say, sayMissing, whole } from './fields';

/**
 * A client's `power` and `console` sections: which driver switches it and where its serial console is read. Checked
 * in full at load so that a board never half-powers because a field was missing at the moment it was needed.
 */

export const POWER_DRIVERS = ['qemu', 'pdudaemon', 'ipmi', 'command'] as const;
export const CONSOLE_DRIVERS = ['qemu', 'serial', 'tcp'] as const;
const BAUDS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1500000] as const;

const strict = { additionalProperties: false };

const host = () => z.string(say(`${AT} must be a string.`))
  .refine(isHostName, { error: (iss) => `${AT} ${JSON.stringify(iss.input)} is not a host name or IP address.` })
  .default('127.0.0.1');
const port = (dflt: number) => whole(1, 65535).default(dflt);

const ARGV_DOC = 'Program and arguments, run without a shell; {{client.name}}, {{client.mac}}, {{client.vars.NAME}} are filled in (no secrets: arguments show in ps).';

/** An argv list: a non-empty list of strings whose templates use only client values (secrets would show in ps). */
const argvItem = z.string(say(`${AT} must be a string.`)).superRefine((a, ctx) => {
  try {
    for (const part of parseTemplate(a)) {
      if ('ref' in part && (part.ref.kind === 'secret' || part.ref.kind === 'server.http')) {
        ctx.addIssue({ code: 'custom', message: `{{${part.source}}} cannot be used in a power command: arguments are visible to every user in ps; use {{client.name}}, {{client.mac}} or {{client.vars.NAME}}.` });
      }
    }
  } catch (err) {
    if (err instanceof TemplateError) ctx.addIssue({ code: 'custom', message: err.message });
    else throw err;
  }
});
const argv = (description = ARGV_DOC) => {
  const program = `${AT} must name a program: a non-empty list of strings.`;
  return z.array(argvItem, sayMissing(`${AT} is missing: give the program and its arguments as a list, e.g. ["relay", "{{client.vars.relay}}", "on"].`, program))
    .min(1, say(program))
    .refine((l) => l[0] !== '', { ...say(program), path: [0] })
    .meta({ description });
};

const qemu = z.object({ driver: z.literal('qemu') }).meta(strict);

/** A driver this version does not know (or none at all): one sentence naming the ones it does. */
function unknownDriver(drivers: readonly string[]) {
  return (iss: { code: string; input?: unknown }) => {
    if (iss.code !== 'invalid_union') return undefined;
    const driver = (iss.input as { driver?: unknown } | undefined)?.driver;
    const list = drivers.map((d) => `"${d}"`).join(', ');
    return driver === undefined ? `${AT} is missing: use one of ${list}.` : `${AT} must be one of ${list}.`;
  };
}

export const PowerSchema = z.discriminatedUnion('driver', [
  qemu,
  z.object({
    driver: z.literal('pdudaemon').meta({ description: "pdudaemon's HTTP API (GET /power/control/on|off|reboot)." }),
    host: host(),
    port: port(16421),
    pdu: nonEmpty().meta({ description: "The PDU's name in pdudaemon's configuration (its hostname key)." }),
    outlet: whole(0, 65535, `${AT} is missing: the PDU port number the board is plugged into.`)
      .meta({ description: 'The PDU port the board is plugged into.' }),
  }).meta(strict),
  z.object({
    driver: z.literal('ipmi').meta({ description: 'A BMC over IPMI 2.0 with ipmitool -I lanplus.' }),
    host: host(),
    port: port(623),
    user: nonEmpty(),
    passwordSecret: nonEmpty().refine((s) => NAME_PATTERN.test(s), { error: (iss) => `${AT} ${JSON.stringify(iss.input)} is not a secret name (set it with \`ipxe-farm secret set NAME\`).` })
      .meta({ description: 'Name of the farm secret holding the BMC password (ipxe-farm secret set NAME).' }),
    cipherSuite: whole(0, 17).default(3),
  }).meta(strict),
  z.object({
    driver: z.literal('command').meta({ description: 'Your own programs (a relay, a smart plug script).' }),
    on: argv(),
    off: argv(),
    cycle: argv().optional(),
    status: argv('Prints on or off (or exits 0 for on, 1 for off).').optional(),
    timeoutSeconds: whole(1, 3600).default(30),
  }).meta(strict),
], { error: unknownDriver(POWER_DRIVERS) }).meta({
  id: 'power',
  description: 'How this machine\'s power is switched. Absent: a QEMU machine iPXE Farm starts itself.',
  defaultSnippets: [
    { label: 'pdudaemon outlet', body: { driver: 'pdudaemon', host: '127.0.0.1', port: 16421, pdu: '${1:pdu1}', outlet: '^${2:1}' } },
    { label: 'IPMI BMC', body: { driver: 'ipmi', host: '${1:bmc.example}', user: '${2:admin}', passwordSecret: '${3:bmc-password}' } },
    { label: 'Own commands', body: { driver: 'command', on: ['${1:relay}', '{{client.vars.relay}}', 'on'], off: ['${1:relay}', '{{client.vars.relay}}', 'off'], timeoutSeconds: 30 } },
  ],
});

export const ConsoleSchema = z.discriminatedUnion('driver', [
  qemu,
  z.object({
    driver: z.literal('serial'),
    device: nonEmpty().refine((d) => d.startsWith('/'), { error: (iss) => `${AT} ${JSON.stringify(iss.input)} must be an absolute path such as /dev/ttyUSB0.` })
      .meta({ description: 'e.g. /dev/ttyUSB0', pattern: '^/' }),
    baud: z.literal(BAUDS, { error: (iss) => `${AT} ${String(iss.input)} is not a standard rate: use one of ${BAUDS.join(', ')}.` }).default(115200),
  }).meta(strict),
  z.object({
    driver: z.literal('tcp').meta({ description: 'A console server such as ser2net.' }),
    host: host(),
    port: whole(1, 65535, `${AT} is missing: the console server's TCP port for this board.`),
    protocol: oneOf(['raw', 'telnet']).default('raw'),
  }).meta(strict),
], { error: unknownDriver(CONSOLE_DRIVERS) }).meta({
  id: 'console',
  description: 'Where this machine\'s serial console is read. Absent: QEMU\'s serial port.',
  defaultSnippets: [
    { label: 'ser2net port', body: { driver: 'tcp', host: '127.0.0.1', port: '^${1:2001}', protocol: 'raw' } },
    { label: 'USB serial adapter', body: { driver: 'serial', device: '${1:/dev/ttyUSB0}', baud: 115200 } },
  ],
});

export type PowerSpec = z.output<typeof PowerSchema>;
export type ConsoleSpec = z.output<typeof ConsoleSchema>;
export type PowerDriver = PowerSpec['driver'];
export type ConsoleDriver = ConsoleSpec['driver'];
