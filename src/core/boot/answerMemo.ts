import { Answer, answer, BootRequest, IDENTITY_HEADERS, MAX_URL_LENGTH } from './handler';
import type { BootState } from './state';

/**
 * An answer the service has already worked out, kept for the next time the same certificate asks the same path: a
 * farm's machines boot again and again (every test job reboots its DUT). Measured under keep-alive load, answering
 * from memory costs 0.017 ms of CPU per request against 0.023 ms worked out in full (bench/boot/README.md).
 */
export interface RememberedAnswer extends Answer {
  /** The event's JSON after its time, so an event line is `{"time":"…",` + this, without serialising it again. */
  eventTail: string;
  /** httpWire's serialised form of this answer for one second (its Date header), kept on the answer it belongs to. */
  wire?: { second: number; text: string };
}

/** Per state: a reload (farm file, PKI index, secrets) starts empty, so a revocation or a new mapping counts at once. */
const memos = new WeakMap<BootState, Map<string, RememberedAnswer>>();

/** Enough for every machine of a large farm and its MAC paths; beyond it answers are worked out each time. */
export const MEMO_LIMIT = 20_000;

/**
 * What answer() reads of a request, as one string, or undefined for a request not worth remembering (another method,
 * a query string, an identity header sent twice, an over-long target): those are rare and are answered in full.
 * answer() reads nothing else of the request (the Host and DN headers, for instance, change nothing), and header
 * values hold no LF (httpWire refuses control bytes), so LF separates the parts without ambiguity.
 */
function memoKey(req: BootRequest): string | undefined {
  const url = req.url;
  if (url === undefined || (req.method !== 'GET' && req.method !== 'HEAD') || url.length > MAX_URL_LENGTH || url.includes('?')) return undefined;
  let key = url;
  for (const h of IDENTITY_HEADERS) {
    const v = req.headersDistinct[h];
    if (v !== undefined && v.length > 1) return undefined;
    // An absent header and an empty one are different requests for answer(): NUL (never in a value) marks absence.
    key += v === undefined ? '\n\0' : `\n${v[0]}`;
  }
  return key;
}

/** `kept`: the answer will be given again, so httpWire may keep its serialised form on it. */
function remember(a: Answer, kept: boolean): RememberedAnswer {
  // time is every event's first key and an ISO time holds no comma: the tail starts after the first comma.
  const json = JSON.stringify(a.event);
  const r: RememberedAnswer = { status: a.status, body: a.body, event: a.event, until: a.until, eventTail: json.slice(json.indexOf(',') + 1) };
  if (kept) r.wire = { second: -1, text: '' };
  return r;
}

/** answer() in the form rememberedAnswer gives, worked out in full every time. */
export function freshAnswer(state: BootState, req: BootRequest, now: Date): RememberedAnswer {
  return remember(answer(state, req, now), false);
}

/**
 * answer(), or the same answer worked out earlier from this very state for the same request, while the clock has not
 * passed the moment it could change (a certificate's expiry). The event's time is not part of it: the caller writes
 * each event with its own time (eventLine).
 */
export function rememberedAnswer(state: BootState, req: BootRequest, now: Date): RememberedAnswer {
  const key = memoKey(req);
  if (key === undefined) return freshAnswer(state, req, now);
  let memo = memos.get(state);
  if (memo === undefined) memos.set(state, (memo = new Map()));
  const known = memo.get(key);
  if (known !== undefined && (known.until === undefined || now.getTime() <= known.until)) return known;
  const keep = memo.size < MEMO_LIMIT || known !== undefined;
  const fresh = remember(answer(state, req, now), keep);
  if (keep) memo.set(key, fresh);
  return fresh;
}

/**
 * One line of the boot-events log for this answer at this time: the bytes JSON.stringify of its event gives (time is its
 * first key, and an ISO time has nothing JSON escapes).
 */
export function eventLine(a: RememberedAnswer, time: string): string {
  return `{"time":"${time}",${a.eventTail}\n`;
}
