import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { FarmError } from '../errors';
import { run } from '../process';
import { PowerControl, PowerState } from './driver';

/**
 * A BMC over IPMI 2.0: `ipmitool -I lanplus`. The password never reaches a command line (ps shows those): it is
 * written to a 0600 file in a private 0700 folder, passed with -f, and removed when ipmitool ends.
 */
export interface IpmiTarget { host: string; port: number; user: string; password: string; cipherSuite: number }

const TIMEOUT_MS = 60_000;

async function withPasswordFile<T>(password: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ipxe-farm-ipmi-'));
  try {
    await fsp.chmod(dir, 0o700);
    const file = path.join(dir, 'password');
    await fsp.writeFile(file, password, { mode: 0o600 });
    return await use(file);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** ipmitool's words for a refused login or an unreachable BMC become one sentence each. */
function failure(client: string, where: string, what: string, out: string, user: string): FarmError {
  const text = out.trim();
  if (/Unable to establish IPMI v2|RAKP|Invalid user name|unauthorized name/i.test(text)) {
    return new FarmError(
      `Cannot ${what} ${client}: the BMC at ${where} refused the login of user "${user}" (wrong password or user name), so ${client}'s power was not changed.`,
      `Set the right password with \`ipxe-farm secret set NAME\` (the secret named in /clients/${client}/power/passwordSecret).`,
      'EPOWER',
    );
  }
  if (/Get Session Challenge|no response|timed out|Connection refused|Address lookup/i.test(text)) {
    return new FarmError(`Cannot ${what} ${client}: the BMC at ${where} does not answer (${text.split('\n')[0]}).`, `Check /clients/${client}/power/host and port, and that the BMC is on the network.`, 'EPOWER');
  }
  return new FarmError(`Cannot ${what} ${client}: ipmitool said "${text.split('\n').slice(-1)[0]}" (BMC at ${where}).`, undefined, 'EPOWER');
}

export function ipmiControl(client: string, t: IpmiTarget): PowerControl {
  const where = `${t.host}:${t.port}`;
  const chassis = async (verb: 'on' | 'off' | 'cycle' | 'status', signal?: AbortSignal): Promise<string> =>
    withPasswordFile(t.password, async (file) => {
      const args = ['-I', 'lanplus', '-C', String(t.cipherSuite), '-H', t.host, '-p', String(t.port), '-U', t.user, '-f', file, '-R', '2', '-N', '2', 'chassis', 'power', verb];
      const r = await run('ipmitool', args, { signal, timeout: TIMEOUT_MS });
      if (r.exitCode !== 0) throw failure(client, where, verb === 'status' ? 'read the power of' : `switch ${verb === 'cycle' ? 'power-cycle' : verb}`, `${r.stderr}\n${r.stdout}`, t.user);
      return r.stdout;
    });
  const ctl: PowerControl = {
    describe: `IPMI BMC ${where} (user ${t.user})`,
    on: async (s) => { await chassis('on', s); },
    off: async (s) => { await chassis('off', s); },
    // A BMC refuses "cycle" while the chassis is off (IPMI spec): then it is simply switched on.
    cycle: async (s) => { await chassis((await ctl.status(s)) === 'off' ? 'on' : 'cycle', s); },
    status: async (s): Promise<PowerState> => {
      const out = await chassis('status', s);
      return /is on/i.test(out) ? 'on' : /is off/i.test(out) ? 'off' : 'unknown';
    },
  };
  return ctl;
}
