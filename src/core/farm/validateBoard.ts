import type { Checker, Obj } from './validate';
import { CONSOLE_DRIVERS, ConsoleSpec, POWER_DRIVERS, PowerSpec } from './model';
import { nameProblem } from './rules';
import { parseTemplate, TemplateError } from './template';
import { isHostName } from '../net/hostName';

/**
 * A client's `power` and `console` sections: which driver switches it and where its serial console is read. Checked
 * here in full so that a board never half-powers because a field was missing at the moment it was needed.
 */

const BAUDS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1500000];

function host(c: Checker, o: Obj, p: string): string {
  const h = c.str(o, 'host', p, '127.0.0.1');
  if (!isHostName(h)) c.error(`${p}/host`, `${p}/host "${h}" is not a host name or IP address.`);
  return h;
}

/** An argv list: a non-empty list of strings whose templates use only client values (secrets would show in ps). */
function argv(c: Checker, o: Obj, key: string, p: string, required: boolean): string[] | undefined {
  if (o[key] === undefined) {
    if (required) c.error(`${p}/${key}`, `${p}/${key} is missing: give the program and its arguments as a list, e.g. ["relay", "{{client.vars.relay}}", "on"].`);
    return undefined;
  }
  const list = c.strs(o, key, p);
  if (!list.length || !list[0]) { c.error(`${p}/${key}`, `${p}/${key} must name a program: a non-empty list of strings.`); return undefined; }
  list.forEach((a, i) => {
    try {
      for (const part of parseTemplate(a)) {
        if ('ref' in part && (part.ref.kind === 'secret' || part.ref.kind === 'server.http')) {
          c.error(`${p}/${key}/${i}`, `{{${part.source}}} cannot be used in a power command: arguments are visible to every user in ps; use {{client.name}}, {{client.mac}} or {{client.vars.NAME}}.`);
        }
      }
    } catch (err) {
      if (err instanceof TemplateError) c.error(`${p}/${key}/${i}`, err.message);
      else throw err;
    }
  });
  return list;
}

export function checkPower(c: Checker, raw: unknown, p: string): PowerSpec | undefined {
  if (raw === undefined) return undefined;
  const o = c.obj(raw, p);
  const driver = c.oneOf(o, 'driver', p, POWER_DRIVERS, 'qemu');
  if (o.driver === undefined) c.error(`${p}/driver`, `${p}/driver is missing: use one of ${POWER_DRIVERS.map((d) => `"${d}"`).join(', ')}.`);
  switch (driver) {
    case 'qemu': return { driver };
    case 'pdudaemon': {
      const pdu = c.str(o, 'pdu', p);
      if (o.outlet === undefined) c.error(`${p}/outlet`, `${p}/outlet is missing: the PDU port number the board is plugged into.`);
      return { driver, host: host(c, o, p), port: c.int(o, 'port', p, 1, 65535, 16421), pdu, outlet: c.int(o, 'outlet', p, 0, 65535, 0) };
    }
    case 'ipmi': {
      const secret = c.str(o, 'passwordSecret', p);
      if (secret && nameProblem('secret', secret)) c.error(`${p}/passwordSecret`, `${p}/passwordSecret "${secret}" is not a secret name (set it with \`ipxe-farm secret set NAME\`).`);
      return { driver, host: host(c, o, p), port: c.int(o, 'port', p, 1, 65535, 623), user: c.str(o, 'user', p), passwordSecret: secret, cipherSuite: c.int(o, 'cipherSuite', p, 0, 17, 3) };
    }
    case 'command':
      return {
        driver,
        on: argv(c, o, 'on', p, true) ?? [],
        off: argv(c, o, 'off', p, true) ?? [],
        cycle: argv(c, o, 'cycle', p, false),
        status: argv(c, o, 'status', p, false),
        timeoutSeconds: c.int(o, 'timeoutSeconds', p, 1, 3600, 30),
      };
  }
}

export function checkConsole(c: Checker, raw: unknown, p: string): ConsoleSpec | undefined {
  if (raw === undefined) return undefined;
  const o = c.obj(raw, p);
  const driver = c.oneOf(o, 'driver', p, CONSOLE_DRIVERS, 'qemu');
  if (o.driver === undefined) c.error(`${p}/driver`, `${p}/driver is missing: use one of ${CONSOLE_DRIVERS.map((d) => `"${d}"`).join(', ')}.`);
  switch (driver) {
    case 'qemu': return { driver };
    case 'serial': {
      const device = c.str(o, 'device', p);
      if (device && !device.startsWith('/')) c.error(`${p}/device`, `${p}/device "${device}" must be an absolute path such as /dev/ttyUSB0.`);
      const baud = c.int(o, 'baud', p, 50, 4_000_000, 115200);
      if (!BAUDS.includes(baud)) c.error(`${p}/baud`, `${p}/baud ${baud} is not a standard rate: use one of ${BAUDS.join(', ')}.`);
      return { driver, device, baud };
    }
    case 'tcp':
      if (o.port === undefined) c.error(`${p}/port`, `${p}/port is missing: the console server's TCP port for this board.`);
      return { driver, host: host(c, o, p), port: c.int(o, 'port', p, 1, 65535, 1), protocol: c.oneOf(o, 'protocol', p, ['raw', 'telnet'] as const, 'raw') };
  }
}
