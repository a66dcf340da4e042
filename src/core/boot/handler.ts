import type { BootEvent } from './events';
import { echoText, REFUSED_HEADLINE } from '../ipxe/light';
import { RenderError, renderScript } from './render';
import { BootDecision, BootIdentity, selectBoot } from './select';
import type { BootState } from './state';

/**
 * iPXE v2.0.0 never runs the body of a 4xx answer (net/tcp/httpcore.c turns the status into an error code), so a
 * refused machine's console would show only that code. Its image asks this path after a failed /boot.ipxe: the answer
 * is 200 with a script that only echoes why this certificate is (or would be) refused. nginx answers it the same way
 * for certificates it refuses itself (src/core/nginx/generate.ts).
 */
export const WHY_PATH = '/why.ipxe';

/** Longer request targets are refused before any work: nothing legitimate comes close. */
export const MAX_URL_LENGTH = 256;
export const MAC_IN_PATH = /^\/ipxe\/([0-9A-Fa-f]{2}(?:(?::|%3[Aa]|-)[0-9A-Fa-f]{2}){5})$/;
/** The headers nginx sets from the TLS handshake: the only ones answer() reads. */
export const IDENTITY_HEADERS = ['x-ssl-client-verify', 'x-ssl-client-fingerprint', 'x-ssl-client-serial'] as const;

export interface Answer {
  status: number;
  body: string;
  event: BootEvent;
}

export { REFUSED_HEADLINE };

/**
 * A script that tells the person at the console why, then stops (iPXE prints `echo` lines on screen and serial).
 * Refusals exit 1; the /why.ipxe answer exits 0, because iPXE prints "Could not boot: Error 0x000001" after a chained
 * script that exits non-zero, and that bogus code would sit right under the reason.
 */
export function refusalScript(headline: string, reason: string, exitCode: 0 | 1 = 1): string {
  return ['#!ipxe', `echo ${echoText(headline)}`, `echo ${echoText(reason)}`, `exit ${exitCode}`, ''].join('\n');
}

/**
 * What answer() reads of a request (node:http's IncomingMessage fits it). Header names are lower case; every value of
 * a repeated header is kept, so duplicates can be refused.
 */
export interface BootRequest {
  url?: string;
  method?: string;
  headersDistinct: Record<string, string[] | undefined>;
}

function header(req: BootRequest, name: string): string[] {
  return req.headersDistinct[name] ?? [];
}

let isoMs = NaN;
let isoText = '';
/** Under load many answers share a millisecond; their events share its ISO text instead of formatting it again. */
export function isoTime(now: Date): string {
  const ms = now.getTime();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = now.toISOString();
  }
  return isoText;
}

/** Route and answer one request from the current state; pure apart from rendering, so it is easy to test. */
export function answer(state: BootState, req: BootRequest, now = new Date()): Answer {
  const rawUrl = req.url ?? '';
  const time = isoTime(now);
  const shownPath = rawUrl.length > 120 ? `${rawUrl.slice(0, 120)}…` : rawUrl;
  if (rawUrl.length > MAX_URL_LENGTH) {
    return { status: 414, body: refusalScript('iPXE Farm: request refused.', 'The URL is too long.'), event: { time, status: 414, path: shownPath, reason: 'URL too long' } };
  }
  const pathOnly = rawUrl.split('?')[0]!;
  let mac: string | undefined;
  const m = MAC_IN_PATH.exec(pathOnly);
  if (m) mac = decodeURIComponent(m[1]!).replace(/-/g, ':');
  else if (pathOnly !== '/boot.ipxe' && pathOnly !== '/ipxe' && pathOnly !== WHY_PATH) {
    return { status: 404, body: refusalScript('iPXE Farm: unknown path.', `Ask for /boot.ipxe, /ipxe, /ipxe/MAC or ${WHY_PATH}.`), event: { time, status: 404, path: shownPath, reason: 'unknown path' } };
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return { status: 405, body: refusalScript('iPXE Farm: request refused.', 'Only GET is answered.'), event: { time, status: 405, path: shownPath, reason: `method ${req.method}` } };
  }
  if (pathOnly === WHY_PATH) return whyAnswer(state, req, time, now);

  const id = identity(req, mac);
  if (typeof id === 'string') {
    return { status: 403, body: refusalScript(REFUSED_HEADLINE, id), event: { time, status: 403, path: shownPath, reason: id } };
  }
  const decision = selectBoot(state.farm, state.certs, id, now, state.refusals);
  // Events are written out with explicit keys, not spreads: this is the path of every first boot, and spreads cost.
  const { fingerprint, serial } = certFields(decision, id.fingerprint);
  if (!decision.ok) {
    return {
      status: 403,
      body: refusalScript(REFUSED_HEADLINE, decision.reason),
      event: { time, path: shownPath, fingerprint, serial, status: 403, client: decision.client, reason: decision.reason },
    };
  }
  const made = bootScript(state, decision);
  if ('reason' in made) {
    return {
      status: 500,
      body: refusalScript(`iPXE Farm could not make the boot script for ${decision.client}:`, made.reason),
      event: { time, path: shownPath, fingerprint, serial, status: 500, client: decision.client, profile: decision.profile, reason: made.reason },
    };
  }
  return { status: 200, body: made.script, event: { time, path: shownPath, fingerprint, serial, status: 200, client: decision.client, profile: decision.profile } };
}

/** The identity nginx passed, or why it cannot be trusted. */
function identity(req: BootRequest, mac: string | undefined): BootIdentity | string {
  // nginx replaces these headers; two copies mean they did not all come from nginx, so trust none of them.
  for (const h of IDENTITY_HEADERS) {
    if (header(req, h).length > 1) return `the ${h} header was sent more than once`;
  }
  return {
    verify: header(req, 'x-ssl-client-verify')[0],
    fingerprint: header(req, 'x-ssl-client-fingerprint')[0] || undefined,
    serial: header(req, 'x-ssl-client-serial')[0] || undefined,
    mac,
  };
}

function certFields(decision: BootDecision, fingerprint: string | undefined): { fingerprint?: string; serial?: string } {
  return decision.ok
    ? { fingerprint: decision.cert.sha1, serial: decision.cert.serial }
    : { fingerprint: decision.cert?.sha1 ?? fingerprint?.toLowerCase().slice(0, 64), serial: decision.cert?.serial };
}

type Allowed = Extract<BootDecision, { ok: true }>;

/** The client's script, from the state's cache when this state already rendered it. */
function bootScript(state: BootState, decision: Allowed): { script: string } | { reason: string } {
  const key = `${decision.client}\0${decision.profile}\0${decision.mac ?? ''}`;
  let script = state.scripts.get(key);
  if (script !== undefined) return { script };
  try {
    script = renderScript({
      farm: state.farm,
      layout: state.layout,
      secrets: state.secrets,
      clientName: decision.client,
      client: decision.clientEntry,
      profileName: decision.profile,
      mac: decision.mac,
    }).script;
  } catch (err) {
    // Load-time checks make this rare (a certificate whose owner is not under /clients, for instance).
    return { reason: err instanceof RenderError ? err.message : 'the boot script could not be made' };
  }
  if (state.scripts.size < 100_000) state.scripts.set(key, script);
  return { script };
}

export const ALLOWED_HEADLINE = 'iPXE Farm: this machine is allowed.';
export const ALLOWED_HINT = 'The earlier failure was not a refusal by the farm: look up the iPXE error code shown above with ipxe-farm decode CODE';

/**
 * GET /why.ipxe: why this very certificate is or would be refused, as a 200 script that iPXE runs. It answers with
 * words only, never the boot script, a secret or anything about another client; the event carries no profile, so the
 * last-boot view does not take it for a boot.
 */
function whyAnswer(state: BootState, req: BootRequest, time: string, now: Date): Answer {
  const said = (headline: string, reason: string, fields: Partial<BootEvent> = {}, logged = reason): Answer => ({
    status: 200,
    body: refusalScript(headline, reason, 0),
    event: { time, status: 200, path: WHY_PATH, ...fields, reason: `asked why: ${logged}` },
  });
  const id = identity(req, undefined);
  if (typeof id === 'string') return said(REFUSED_HEADLINE, id);
  const decision = selectBoot(state.farm, state.certs, id, now, state.refusals);
  const fields = { ...certFields(decision, id.fingerprint), client: decision.client };
  if (!decision.ok) return said(REFUSED_HEADLINE, decision.reason, fields);
  const made = bootScript(state, decision);
  if ('reason' in made) return said(`iPXE Farm could not make the boot script for ${decision.client}:`, made.reason, fields);
  return said(ALLOWED_HEADLINE, ALLOWED_HINT, fields, 'this machine is allowed');
}
