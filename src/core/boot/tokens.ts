import { randomBytes } from 'node:crypto';

/**
 * One-time tokens for secret files, in memory only: a restart of the boot service forgets them all, and the board
 * then fails its `initrd` line, asks /why.ipxe and fetches the whole script again (with fresh tokens).
 *
 * A token is 32 random bytes (256 bits), base64url: unguessable, and safe in a URL path and an iPXE word.
 */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface TokenGrant {
  /** SHA-1 fingerprint (lower-case hex) of the certificate that fetched the script: the only one the file goes to. */
  fingerprint: string;
  client: string;
  profile: string;
  /** Path of the file in the initramfs (for events: the value is never logged). */
  path: string;
  /** The file's contents, rendered when the script was made. */
  content: string;
  /** Epoch ms after which the token is refused. */
  expires: number;
}

export type Redemption =
  | { ok: true; grant: TokenGrant }
  | { ok: false; status: 403 | 404 | 410; reason: string; grant?: TokenGrant };

/** Spent tokens are remembered (without contents) until they would have expired, so a replay is told apart. */
interface Spent {
  fingerprint: string;
  client: string;
  expires: number;
}

export class TokenStore {
  private live = new Map<string, TokenGrant>();
  private spent = new Map<string, Spent>();
  /** Tokens honoured since start, and refusals: the load test counts them. */
  served = 0;
  refused = 0;

  /** `limit`: live tokens held at most; beyond it the oldest are dropped (a flood cannot grow memory without end). */
  constructor(private readonly limit = 200_000) {}

  get size(): number {
    return this.live.size;
  }

  issue(grant: TokenGrant, now: number): string {
    this.sweep(now);
    const token = randomBytes(32).toString('base64url');
    this.live.set(token, grant);
    while (this.live.size > this.limit) this.live.delete(this.live.keys().next().value!);
    return token;
  }

  /**
   * Hand out the grant once, to the same certificate, before it expires. A token shown with another certificate is
   * refused and stays valid for its owner: a stolen URL is worth nothing, and cannot be burned to stop a boot.
   */
  redeem(token: string, fingerprint: string | undefined, now: number): Redemption {
    const r = this.check(token, fingerprint, now);
    if (r.ok) this.served++;
    else this.refused++;
    return r;
  }

  private check(token: string, fingerprint: string | undefined, now: number): Redemption {
    const grant = TOKEN_PATTERN.test(token) ? this.live.get(token) : undefined;
    if (grant === undefined) {
      const spent = this.spent.get(token);
      if (spent !== undefined && spent.expires >= now) {
        return { ok: false, status: 410, reason: 'this secret file\'s one-time URL was already used; the board must fetch its boot script again' };
      }
      return { ok: false, status: 404, reason: 'this secret file\'s URL is unknown or expired (one-time URLs do not survive a restart of the boot service); the board must fetch its boot script again' };
    }
    if (fingerprint === undefined || fingerprint !== grant.fingerprint) {
      return { ok: false, status: 403, reason: 'this secret file\'s URL was made for another client certificate', grant };
    }
    this.live.delete(token);
    if (grant.expires < now) {
      return { ok: false, status: 410, reason: 'this secret file\'s one-time URL expired before it was fetched; the board must fetch its boot script again (or raise boot.secretTtl)', grant };
    }
    this.spent.set(token, { fingerprint: grant.fingerprint, client: grant.client, expires: grant.expires });
    return { ok: true, grant };
  }

  /** Drop what has expired. Tokens are issued with one TTL, so the oldest entries expire first. */
  sweep(now: number): void {
    for (const [t, g] of this.live) {
      if (g.expires >= now) break;
      this.live.delete(t);
    }
    for (const [t, s] of this.spent) {
      if (s.expires >= now) break;
      this.spent.delete(t);
    }
    while (this.spent.size > this.limit) this.spent.delete(this.spent.keys().next().value!);
  }
}
