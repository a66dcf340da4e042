import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BootEvent } from './events';
import { echoText } from './ipxeLine';
import { RenderError, renderScript } from './render';
import { selectBoot } from './select';
import type { BootState } from './state';

/** Longer request targets are refused before any work: nothing legitimate comes close. */
export const MAX_URL_LENGTH = 256;
const MAC_IN_PATH = /^\/ipxe\/([0-9A-Fa-f]{2}(?:(?::|%3[Aa]|-)[0-9A-Fa-f]{2}){5})$/;
const IDENTITY_HEADERS = ['x-ssl-client-verify', 'x-ssl-client-fingerprint', 'x-ssl-client-serial'];

export interface Answer {
  status: number;
  body: string;
  event: BootEvent;
}

/** A script that tells the person at the console why, then stops (iPXE prints `echo` lines on screen and serial). */
export function refusalScript(headline: string, reason: string): string {
  return ['#!ipxe', `echo ${echoText(headline)}`, `echo ${echoText(reason)}`, 'exit 1', ''].join('\n');
}

function header(req: IncomingMessage, name: string): string[] {
  return req.headersDistinct?.[name] ?? (req.headers[name] === undefined ? [] : [String(req.headers[name])]);
}

/** Route and answer one request from the current state; pure apart from rendering, so it is easy to test. */
export function answer(state: BootState, req: IncomingMessage, now = new Date()): Answer {
  const rawUrl = req.url ?? '';
  const time = now.toISOString();
  const shownPath = rawUrl.length > 120 ? `${rawUrl.slice(0, 120)}…` : rawUrl;
  if (rawUrl.length > MAX_URL_LENGTH) {
    return { status: 414, body: refusalScript('iPXE Farm: request refused.', 'The URL is too long.'), event: { time, status: 414, path: shownPath, reason: 'URL too long' } };
  }
  const pathOnly = rawUrl.split('?')[0]!;
  let mac: string | undefined;
  const m = MAC_IN_PATH.exec(pathOnly);
  if (m) mac = decodeURIComponent(m[1]!).replace(/-/g, ':');
  else if (pathOnly !== '/boot.ipxe' && pathOnly !== '/ipxe') {
    return { status: 404, body: refusalScript('iPXE Farm: unknown path.', 'Ask for /boot.ipxe, /ipxe or /ipxe/MAC.'), event: { time, status: 404, path: shownPath, reason: 'unknown path' } };
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return { status: 405, body: refusalScript('iPXE Farm: request refused.', 'Only GET is answered.'), event: { time, status: 405, path: shownPath, reason: `method ${req.method}` } };
  }

  // nginx replaces these headers; two copies mean they did not all come from nginx, so trust none of them.
  for (const h of IDENTITY_HEADERS) {
    if (header(req, h).length > 1) {
      const reason = `the ${h} header was sent more than once`;
      return { status: 403, body: refusalScript('iPXE Farm refused this machine:', reason), event: { time, status: 403, path: shownPath, reason } };
    }
  }
  const verify = header(req, 'x-ssl-client-verify')[0];
  const fingerprint = header(req, 'x-ssl-client-fingerprint')[0] || undefined;
  const serial = header(req, 'x-ssl-client-serial')[0] || undefined;
  const decision = selectBoot(state.farm, state.certs, { verify, fingerprint, serial, mac }, now);
  const base = { time, path: shownPath, fingerprint: decision.ok ? decision.cert.sha1 : decision.cert?.sha1 ?? fingerprint?.toLowerCase().slice(0, 64), serial: decision.ok ? decision.cert.serial : decision.cert?.serial };
  if (!decision.ok) {
    return {
      status: 403,
      body: refusalScript('iPXE Farm refused this machine:', decision.reason),
      event: { ...base, status: 403, client: decision.client, reason: decision.reason },
    };
  }
  try {
    const key = `${decision.client}\0${decision.profile}\0${decision.mac ?? ''}`;
    let script = state.scripts.get(key);
    if (script === undefined) {
      script = renderScript({
        farm: state.farm,
        layout: state.layout,
        secrets: state.secrets,
        clientName: decision.client,
        client: decision.clientEntry,
        profileName: decision.profile,
        mac: decision.mac,
      }).script;
      if (state.scripts.size < 100_000) state.scripts.set(key, script);
    }
    return { status: 200, body: script, event: { ...base, status: 200, client: decision.client, profile: decision.profile } };
  } catch (err) {
    // Load-time checks make this rare (a certificate whose owner is not under /clients, for instance).
    const reason = err instanceof RenderError ? err.message : 'the boot script could not be made';
    return {
      status: 500,
      body: refusalScript(`iPXE Farm could not make the boot script for ${decision.client}:`, reason),
      event: { ...base, status: 500, client: decision.client, profile: decision.profile, reason },
    };
  }
}

export function send(res: ServerResponse, a: Answer, head: boolean): void {
  res.writeHead(a.status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(a.body),
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : a.body);
}
