// Login sessions: a random id in the cookie, its SHA-256 in auth.db, idle and absolute timeouts, a CSRF token derived from the id.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { digestOf, newSecret, sameDigest } from './secrets.js';
import type { Role } from './users.js';

export const SESSION_COOKIE = 'sg_session';

export interface SessionTimes {
  idleMs: number;
  maxMs: number;
}

export interface LiveSession {
  user: string;
  role: Role;
  csrf: string;
}

/** The CSRF token of a session: nothing stored, and another session's token never fits. */
export function csrfOf(sessionId: string): string {
  return createHash('sha256').update(`csrf:${sessionId}`).digest('base64url');
}

export class Sessions {
  constructor(
    private readonly db: Database.Database,
    private readonly times: SessionTimes,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session of a user; the id goes into the cookie and is never stored. Ended sessions are deleted here. */
  create(user: string): { id: string; csrf: string } {
    const now = this.now();
    this.db.prepare('DELETE FROM sessions WHERE last_seen <= ? OR created <= ?').run(now - this.times.idleMs, now - this.times.maxMs);
    const id = newSecret('sgs');
    this.db.prepare('INSERT INTO sessions (digest, user, created, last_seen) VALUES (?, ?, ?, ?)').run(digestOf(id), user, now, now);
    return { id, csrf: csrfOf(id) };
  }

  /** The session's user and role, or null: unknown, ended (idle, absolute), or its user removed. */
  resolve(id: string): LiveSession | null {
    const digest = digestOf(id);
    const row = this.db
      .prepare('SELECT s.digest, s.user, s.created, s.last_seen, u.role FROM sessions s JOIN users u ON u.name = s.user WHERE s.digest = ?')
      .get(digest) as { digest: Buffer; user: string; created: number; last_seen: number; role: Role } | undefined;
    if (!row || !sameDigest(row.digest, digest)) return null;
    const now = this.now();
    if (now - row.last_seen >= this.times.idleMs || now - row.created >= this.times.maxMs) {
      this.db.prepare('DELETE FROM sessions WHERE digest = ?').run(digest);
      return null;
    }
    // last_seen written at most every quarter of the idle time (and a minute): not a write per request.
    if (now - row.last_seen >= Math.min(60_000, this.times.idleMs / 4)) this.db.prepare('UPDATE sessions SET last_seen = ? WHERE digest = ?').run(now, digest);
    return { user: row.user, role: row.role, csrf: csrfOf(id) };
  }

  end(id: string): void {
    this.db.prepare('DELETE FROM sessions WHERE digest = ?').run(digestOf(id));
  }
}
