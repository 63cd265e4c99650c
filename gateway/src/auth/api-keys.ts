// API keys for programs: `sgk_` + 32 random bytes, stored as SHA-256 with a name, a role and the shown prefix.
import type Database from 'better-sqlite3';
import { digestOf, newSecret, sameDigest, shownPrefix } from './secrets.js';
import { isRole, UserError, type Role } from './users.js';

export interface ApiKeyRow {
  id: number;
  name: string;
  role: Role;
  prefix: string;
  created: number;
  revoked: number | null;
  lastUsed: number | null;
}

/** last_used is written at most this often per key. */
const LAST_USED_EVERY_MS = 60_000;

export class ApiKeys {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {}

  create(name: string, role: string): { id: number; key: string } {
    if (!/^\S.{0,63}$/.test(name)) throw new UserError(`key name "${name.slice(0, 70)}": 1 to 64 characters, not starting with a space`);
    if (!isRole(role)) throw new UserError(`role "${role}": viewer or admin`);
    const key = newSecret('sgk');
    const info = this.db.prepare('INSERT INTO api_keys (name, role, digest, prefix, created) VALUES (?, ?, ?, ?, ?)').run(name, role, digestOf(key), shownPrefix(key), this.now());
    return { id: Number(info.lastInsertRowid), key };
  }

  list(): ApiKeyRow[] {
    return this.db.prepare('SELECT id, name, role, prefix, created, revoked, last_used AS lastUsed FROM api_keys ORDER BY id').all() as ApiKeyRow[];
  }

  revoke(id: number): boolean {
    return this.db.prepare('UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL').run(this.now(), id).changes > 0;
  }

  /** The key's name and role, or the reason it is refused. */
  check(key: string): { ok: true; name: string; role: Role } | { ok: false; reason: string } {
    const digest = digestOf(key);
    const row = this.db.prepare('SELECT id, name, role, digest, revoked, last_used FROM api_keys WHERE digest = ?').get(digest) as
      | { id: number; name: string; role: Role; digest: Buffer; revoked: number | null; last_used: number | null }
      | undefined;
    if (!row || !sameDigest(row.digest, digest)) return { ok: false, reason: 'unknown API key' };
    if (row.revoked !== null) return { ok: false, reason: `API key ${row.name} revoked` };
    const now = this.now();
    if (row.last_used === null || now - row.last_used >= LAST_USED_EVERY_MS) this.db.prepare('UPDATE api_keys SET last_used = ? WHERE id = ?').run(now, row.id);
    return { ok: true, name: row.name, role: row.role };
  }
}
