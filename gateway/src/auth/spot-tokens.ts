// Spot tokens: a site token (any serial without a token of its own) or per-spot tokens; stored as SHA-256.
import type Database from 'better-sqlite3';
import { digestOf, newSecret, sameDigest, shownPrefix } from './secrets.js';

export interface SpotTokenRow {
  id: number;
  /** null: the site token. */
  spot: string | null;
  prefix: string;
  created: number;
  revoked: number | null;
}

export type SpotTokenCheck = { ok: true } | { ok: false; reason: string };

export class SpotTokens {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new token; the caller shows it once, only its digest is kept. */
  create(spot: string | null): { id: number; token: string } {
    const token = newSecret('sgt');
    const info = this.db
      .prepare('INSERT INTO spot_tokens (spot, digest, prefix, created) VALUES (?, ?, ?, ?)')
      .run(spot, digestOf(token), shownPrefix(token), this.now());
    return { id: Number(info.lastInsertRowid), token };
  }

  list(): SpotTokenRow[] {
    return this.db.prepare('SELECT id, spot, prefix, created, revoked FROM spot_tokens ORDER BY id').all() as SpotTokenRow[];
  }

  /** False when there is no such token or it was revoked already. */
  revoke(id: number): boolean {
    return this.db.prepare('UPDATE spot_tokens SET revoked = ? WHERE id = ? AND revoked IS NULL').run(this.now(), id).changes > 0;
  }

  /**
   * Whether `token` may post for `serial`: a live per-spot token of that serial, or a live site token when
   * the serial has no live token of its own. The reason says which rule failed, never anything of a stored token.
   */
  check(serial: string, token: string | undefined): SpotTokenCheck {
    if (token === undefined) return { ok: false, reason: 'no Authorization: Bearer token (auth.spots is token)' };
    const digest = digestOf(token);
    const row = this.db.prepare('SELECT spot, digest, revoked FROM spot_tokens WHERE digest = ?').get(digest) as
      | { spot: string | null; digest: Buffer; revoked: number | null }
      | undefined;
    if (!row || !sameDigest(row.digest, digest)) return { ok: false, reason: 'unknown token' };
    if (row.revoked !== null) return { ok: false, reason: 'token revoked' };
    if (row.spot !== null) return row.spot === serial ? { ok: true } : { ok: false, reason: `token of another spot, not of ${serial}` };
    const own = this.db.prepare('SELECT 1 FROM spot_tokens WHERE spot = ? AND revoked IS NULL LIMIT 1').get(serial);
    return own ? { ok: false, reason: `spot ${serial} has a token of its own: the site token is not accepted for it` } : { ok: true };
  }
}
