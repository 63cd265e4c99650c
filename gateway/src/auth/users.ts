// Users of the API and the dashboard: name, role, scrypt hash of the password.
import type Database from 'better-sqlite3';
import { dummyHash, hashPassword, MIN_PASSWORD_CHARS, verifyPassword } from './passwords.js';

export type Role = 'viewer' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'admin'];

export interface UserRow {
  name: string;
  role: Role;
  created: number;
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export class UserError extends Error {}

export function isRole(text: string | undefined): text is Role {
  return text === 'viewer' || text === 'admin';
}

export class Users {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws UserError naming what is wrong: the name, the role, a short password, a name taken. */
  async add(name: string, role: string, password: string): Promise<void> {
    if (!NAME.test(name)) throw new UserError(`user name "${name.slice(0, 70)}": 1 to 64 letters, digits or . _ @ -`);
    if (!isRole(role)) throw new UserError(`role "${role}": viewer or admin`);
    if ([...password].length < MIN_PASSWORD_CHARS) throw new UserError(`password: at least ${MIN_PASSWORD_CHARS} characters`);
    if (this.get(name)) throw new UserError(`user ${name} exists already (user remove first)`);
    const hash = await hashPassword(password);
    this.db.prepare('INSERT INTO users (name, role, password, created) VALUES (?, ?, ?, ?)').run(name, role, hash, this.now());
  }

  /** Removes the user and its sessions; false when there is no such user. */
  remove(name: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM sessions WHERE user = ?').run(name);
      return this.db.prepare('DELETE FROM users WHERE name = ?').run(name).changes > 0;
    })();
  }

  list(): UserRow[] {
    return this.db.prepare('SELECT name, role, created FROM users ORDER BY name').all() as UserRow[];
  }

  get(name: string): UserRow | undefined {
    return this.db.prepare('SELECT name, role, created FROM users WHERE name = ?').get(name) as UserRow | undefined;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  /** The user when the password is right; an unknown name takes as long as a wrong password. */
  async authenticate(name: string, password: string): Promise<UserRow | null> {
    const row = this.db.prepare('SELECT name, role, created, password FROM users WHERE name = ?').get(name) as (UserRow & { password: string }) | undefined;
    const ok = await verifyPassword(password, row?.password ?? (await dummyHash()));
    return row && ok ? { name: row.name, role: row.role, created: row.created } : null;
  }
}
