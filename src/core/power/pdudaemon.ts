import { FarmError } from '../errors';
import { cycleByOffOn, PowerControl, PowerState } from './driver';

/**
 * pdudaemon's HTTP listener: GET /power/control/on|off?hostname=PDU&port=OUTLET answers once the PDU driver ran
 * (200 "OK - accepted request"), 500 when pdudaemon does not know the PDU or the request. It cannot read an outlet's
 * state back, so status is 'unknown'.
 */
export interface PdudaemonTarget { host: string; port: number; pdu: string; outlet: number }

const TIMEOUT_MS = 60_000;

function urlHost(h: string): string {
  return h.includes(':') ? `[${h}]` : h;
}

export function pdudaemonControl(client: string, t: PdudaemonTarget): PowerControl {
  const where = `pdudaemon at ${t.host}:${t.port}`;
  const request = async (action: 'on' | 'off', signal?: AbortSignal): Promise<void> => {
    const url = `http://${urlHost(t.host)}:${t.port}/power/control/${action}?hostname=${encodeURIComponent(t.pdu)}&port=${t.outlet}`;
    const timeout = AbortSignal.timeout(TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (timeout.aborted ? 'no answer within 60 s' : (err as Error).message);
      throw new FarmError(
        `Cannot switch ${client} ${action}: ${where} is unreachable (${cause}), so ${client}'s power was not changed.`,
        `Start pdudaemon there, or fix /clients/${client}/power/host and port in ipxe-farm.json.`,
        'EPOWER',
      );
    }
    const body = (await res.text()).trim();
    if (res.status !== 200) {
      throw new FarmError(
        `Cannot switch ${client} ${action}: ${where} refused outlet ${t.outlet} of PDU "${t.pdu}" (HTTP ${res.status}: ${body.slice(0, 80)}).`,
        `Check that "${t.pdu}" is a PDU in pdudaemon's configuration and that outlet ${t.outlet} exists (/clients/${client}/power).`,
        'EPOWER',
      );
    }
  };
  const ctl: PowerControl = {
    describe: `${where}, PDU ${t.pdu} outlet ${t.outlet}`,
    on: (s) => request('on', s),
    off: (s) => request('off', s),
    cycle: (s) => cycleByOffOn(ctl, client, s),
    status: async (): Promise<PowerState> => 'unknown',
  };
  return ctl;
}
