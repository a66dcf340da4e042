import { SECRET_TTL_DEFAULT, parseSecretMode } from '../farm/light';
import { maskSecrets } from '../secrets/light';
import type { BootEvent } from './events';
import { Answer, BootRequest, IDENTITY_HEADERS, isoTime, MAC_IN_PATH, refusalScript, WHY_PATH } from './handler';
import { RenderError, RenderInput } from './render';
import { renderSecretContents } from './secretContents';
import { selectBoot } from './select';
import { SECRET_ROUTE, TOKEN_SLOTS } from './secretLines';
import type { BootState } from './state';
import { TokenStore } from './tokens';

/**
 * Secret files on the boot service: the script's token slots become fresh one-time tokens bound to the certificate
 * that fetched it, and GET /secret/TOKEN hands out the file once to that certificate. Nothing here is logged but
 * names, the file's path and the outcome: never a token, never a value.
 */

export const SECRET_REFUSED_HEADLINE = 'iPXE Farm refused a secret file of this machine:';
/** The path events and logs show for every secret URL: the token stays out of them. */
export const SECRET_EVENT_PATH = `${SECRET_ROUTE}…`;
/** How long /why.ipxe remembers why a certificate's secret file was refused (the board asks right after). */
const WHY_MEMORY_MS = 5 * 60_000;
const WHY_MEMORY_LIMIT = 10_000;

type Identity = { fingerprint?: string; verify?: string; serial?: string } | string;

function identityOf(req: BootRequest): Identity {
  for (const h of IDENTITY_HEADERS) if ((req.headersDistinct[h]?.length ?? 0) > 1) return `the ${h} header was sent more than once`;
  const one = (h: string) => req.headersDistinct[h]?.[0] || undefined;
  return { verify: req.headersDistinct['x-ssl-client-verify']?.[0], fingerprint: one('x-ssl-client-fingerprint'), serial: one('x-ssl-client-serial') };
}

export class SecretFileService {
  /** Why a certificate's last secret file was refused, by its fingerprint, for the /why.ipxe that follows. */
  private why = new Map<string, { reason: string; until: number }>();
  private contents = new WeakMap<BootState, Map<string, string[]>>();

  constructor(readonly tokens = new TokenStore()) {}

  /** The script answer with each token slot replaced by a fresh token for this certificate, or the answer itself when it has none. */
  withTokens(state: BootState, a: Answer, req: BootRequest, now: Date): Answer {
    if (a.status !== 200 || !a.body.includes('\u0000')) return a;
    const { client, profile, fingerprint } = a.event;
    const bad = (reason: string): Answer => ({ status: 500, body: refusalScript(`iPXE Farm could not make the boot script for ${client}:`, reason), event: { ...a.event, status: 500, reason } });
    if (!client || !profile || !fingerprint) return bad('the secret files of this profile need the certificate that asked');
    if (req.method === 'HEAD') return a;
    let files: string[];
    try {
      files = this.contentsFor(state, client, profile, req);
    } catch (err) {
      return bad(err instanceof RenderError ? err.message : 'the secret files could not be made');
    }
    const ttl = (state.farm.boot?.secretTtl ?? SECRET_TTL_DEFAULT) * 1000;
    const paths = state.farm.profiles[profile]?.secretFiles ?? [];
    const ms = now.getTime();
    const body = a.body.replace(TOKEN_SLOTS, (_m, i: string) => this.tokens.issue({
      fingerprint, client, profile, path: paths[Number(i)]!.path, content: files[Number(i)]!, expires: ms + ttl,
    }, ms));
    return { ...a, body };
  }

  private contentsFor(state: BootState, client: string, profile: string, req: BootRequest): string[] {
    const m = MAC_IN_PATH.exec((req.url ?? '').split('?')[0]!);
    const mac = m ? decodeURIComponent(m[1]!).replace(/-/g, ':').toLowerCase() : undefined;
    let memo = this.contents.get(state);
    if (!memo) this.contents.set(state, (memo = new Map()));
    const key = `${client}\0${profile}\0${mac ?? ''}`;
    let files = memo.get(key);
    if (!files) {
      files = renderSecretContents({ farm: state.farm, layout: state.layout, secrets: state.secrets, clientName: client, client: state.farm.clients[client], profileName: profile, mac });
      if (memo.size < 100_000) memo.set(key, files);
    }
    return files;
  }

  /** GET /secret/TOKEN, or /why.ipxe right after a refused secret file; undefined for every other request. */
  answer(state: BootState, req: BootRequest, now: Date): Answer | undefined {
    const url = req.url ?? '';
    if (url.startsWith(SECRET_ROUTE)) return this.secretAnswer(state, req, url.slice(SECRET_ROUTE.length), now);
    if (url.split('?')[0] === WHY_PATH) return this.whyAnswer(req, now);
    return undefined;
  }

  private secretAnswer(state: BootState, req: BootRequest, token: string, now: Date): Answer {
    const time = isoTime(now);
    const refuse = (status: number, reason: string, fields: Partial<BootEvent> = {}): Answer => {
      if (fp) {
        // Oldest first out: a flood of refusals cannot grow memory, and the newest reason is the one asked about.
        this.why.delete(fp);
        if (this.why.size >= WHY_MEMORY_LIMIT) this.why.delete(this.why.keys().next().value!);
        this.why.set(fp, { reason, until: now.getTime() + WHY_MEMORY_MS });
      }
      return { status, body: refusalScript(SECRET_REFUSED_HEADLINE, reason), event: { time, status, path: SECRET_EVENT_PATH, ...fields, reason } };
    };
    const id = identityOf(req);
    const fp = typeof id === 'string' ? undefined : id.fingerprint?.toLowerCase();
    if (req.method !== 'GET') return refuse(405, 'only GET is answered');
    if (typeof id === 'string') return refuse(403, id);
    const decision = selectBoot(state.farm, state.certs, id, now, state.refusals);
    if (!decision.ok) return refuse(403, decision.reason, { client: decision.client, fingerprint: decision.cert?.sha1 ?? fp, serial: decision.cert?.serial });
    const fields = { client: decision.client, fingerprint: decision.cert.sha1, serial: decision.cert.serial };
    const r = this.tokens.redeem(token, decision.cert.sha1, now.getTime());
    if (!r.ok) return refuse(r.status, r.reason, { ...fields, secretFile: r.grant?.client === decision.client ? r.grant.path : undefined });
    return {
      status: 200,
      body: r.grant.content,
      event: { time, status: 200, path: SECRET_EVENT_PATH, ...fields, profile: r.grant.profile, secretFile: r.grant.path, reason: 'secret file served' },
    };
  }

  /** The reason a secret file was refused, once, to the same certificate that was refused. */
  private whyAnswer(req: BootRequest, now: Date): Answer | undefined {
    const id = identityOf(req);
    const fp = typeof id === 'string' ? undefined : id.fingerprint?.toLowerCase();
    const w = fp ? this.why.get(fp) : undefined;
    if (!w || !fp) return undefined;
    this.why.delete(fp);
    if (w.until < now.getTime()) return undefined;
    const time = isoTime(now);
    return { status: 200, body: refusalScript(SECRET_REFUSED_HEADLINE, w.reason, 0), event: { time, status: 200, path: WHY_PATH, fingerprint: fp, reason: `asked why: ${w.reason}` } };
  }
}

export interface ShownSecretFile {
  path: string;
  mode: string;
  /** Secret values masked unless revealed. */
  content: string;
}

/** A profile's secret files as `explain`/`script` show them: contents rendered for the client, secrets masked. */
export function showSecretFiles(input: RenderInput, reveal = false): ShownSecretFile[] {
  const files = input.farm.profiles[input.profileName]?.secretFiles ?? [];
  if (files.length === 0) return [];
  const contents = renderSecretContents(input);
  return files.map((f, i) => ({
    path: f.path,
    mode: (parseSecretMode(f.mode) ?? 0o600).toString(8).padStart(4, '0'),
    content: reveal ? contents[i]! : maskSecrets(contents[i]!, input.secrets),
  }));
}

/** The files as iPXE comments after a script, so `ipxe-farm script` shows everything the board gets. */
export function secretFilesAsComments(files: ShownSecretFile[]): string {
  return files.map((f) => [
    `# secret file ${f.path} (mode ${f.mode}), fetched once over mutual TLS with a one-time URL:`,
    ...f.content.split('\n').map((l) => `#   ${l}`),
  ].join('\n')).join('\n') + (files.length ? '\n' : '');
}
