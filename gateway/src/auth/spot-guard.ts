// Spot posts: the token check with auth.spots token, the numbering bound with off (docs/security.md).
import type http from 'node:http';
import { PostNumberingBound, beyondBound, type StoredNumbering } from '../ingest/numbering-bound.js';
import type { PostNumbering } from '../ingest/headers.js';
import type { PostAdmission } from '../transports/spot-admission.js';
import type { FailureLimiter } from './rate-limit.js';
import { bearerOf } from './secrets.js';
import type { SpotTokenCheck } from './spot-tokens.js';

/** Spots with a 401 counter of their own; failures for further serials are counted under "other" (bounded label set). */
export const MAX_COUNTED_SPOTS = 1000;

export class SpotAuthFailures {
  readonly bySpot = new Map<string, number>();
  other = 0;

  add(serial: string): void {
    const n = this.bySpot.get(serial);
    if (n !== undefined) this.bySpot.set(serial, n + 1);
    else if (this.bySpot.size < MAX_COUNTED_SPOTS) this.bySpot.set(serial, 1);
    else this.other++;
  }
}

export interface SpotGuardOptions {
  mode: 'off' | 'token';
  tokens: { check(serial: string, token: string | undefined): SpotTokenCheck };
  limiter: FailureLimiter;
  failures: SpotAuthFailures;
  /** The spot's stored numbering; throws when the store cannot be read (the bound is then skipped). */
  numberingOf: (serial: string) => StoredNumbering | null;
  maxAhead: number;
  /** Posts refused for their numbering (IngestCounters.numberingRefused). */
  counters: { numberingRefused: number };
}

export function addressOf(req: http.IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function spotGuard(o: SpotGuardOptions): (req: http.IncomingMessage, serial: string, numbering: PostNumbering | null) => PostAdmission {
  return (req, serial, numbering): PostAdmission => {
    if (o.mode === 'token') {
      const address = addressOf(req);
      const retry = o.limiter.retryAfterS(address);
      if (retry > 0) {
        return { ok: false, status: 429, error: 'too many requests', reason: `too many failed authentications from ${address}; try again in ${retry} s`, headers: { 'Retry-After': String(retry) } };
      }
      const token = bearerOf(headerOf(req, 'authorization'));
      const checked = o.tokens.check(serial, token);
      if (checked.ok) {
        // A WebSocket outlives the check: its token is looked up again while it stays open.
        const stillValid = (): string | null => {
          try {
            const again = o.tokens.check(serial, token);
            return again.ok ? null : again.reason;
          } catch {
            // The auth database cannot be read now: the connection stays; the next look decides.
            return null;
          }
        };
        return { ok: true, stillValid };
      }
      o.limiter.failed(address);
      o.failures.add(serial);
      return { ok: false, status: 401, error: 'unauthorized', reason: checked.reason, headers: { 'WWW-Authenticate': 'Bearer realm="spot-gateway"' } };
    }
    if (o.maxAhead <= 0) return { ok: true };
    let stored: StoredNumbering | null;
    try {
      stored = o.numberingOf(serial);
    } catch {
      // The store cannot be read: the post will meet the same trouble and be answered 503.
      return { ok: true };
    }
    if (stored === null) return { ok: true };
    const beyond = numbering ? beyondBound(stored, numbering, o.maxAhead) : null;
    if (beyond) {
      o.counters.numberingRefused++;
      return { ok: false, status: 409, error: 'conflict', reason: beyond };
    }
    return { ok: true, numberingBound: new PostNumberingBound(stored, o.maxAhead) };
  };
}

function headerOf(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
