// `spot-gateway token|user|apikey ...`: credentials in <data_dir>/auth.db (docs/security.md). The gateway may run meanwhile.
import { parseArgs } from 'node:util';
import type Database from 'better-sqlite3';
import { ApiKeys } from '../auth/api-keys.js';
import { AuthDbError, openAuthDb } from '../auth/auth-db.js';
import { SpotTokens } from '../auth/spot-tokens.js';
import { UserError, Users } from '../auth/users.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { parseSerial } from '../ingest/headers.js';
import type { CliIo } from './index.js';

export const TOKEN_HELP = `Usage: spot-gateway token create [--spot SERIAL] | list | revoke ID [--config PATH]

Spot tokens for auth.spots: token (docs/security.md). create prints a new token
once: without --spot a site token (any serial without a token of its own), with
--spot a token of that serial only. revoke ends one at once.
`;

export const USER_HELP = `Usage: spot-gateway user add NAME --role viewer|admin | remove NAME | list [--config PATH]

Users of the API and the dashboard (docs/security.md). add reads the password
from standard input (its first line, at least 10 characters). remove ends the
user's sessions too.
`;

export const APIKEY_HELP = `Usage: spot-gateway apikey create NAME --role viewer|admin | list | revoke ID [--config PATH]

API keys for programs (X-API-Key or Authorization: Bearer; docs/security.md).
create prints the key once; lists show its prefix only.
`;

type Parsed = { positionals: string[]; config?: string; spot?: string; role?: string; help: boolean };

function parse(args: string[]): Parsed | string {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' }, config: { type: 'string', short: 'c' }, spot: { type: 'string' }, role: { type: 'string' } },
    });
    return { positionals, config: values.config, spot: values.spot, role: values.role, help: values.help ?? false };
  } catch (err) {
    return (err as Error).message;
  }
}

function time(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** Runs one command against auth.db; usage and input errors exit 2 with the reason, a missing row 1. */
async function withDb(kind: string, help: string, args: string[], io: CliIo, run: (db: Database.Database, p: Parsed) => Promise<number> | number): Promise<number> {
  const parsed = parse(args);
  if (typeof parsed === 'string') {
    io.err(`spot-gateway ${kind}: ${parsed}\n\n${help}`);
    return 2;
  }
  if (parsed.help || parsed.positionals.length === 0) {
    (parsed.help ? io.out : io.err)(help);
    return parsed.help ? 0 : 2;
  }
  let db: Database.Database;
  try {
    const { config } = loadConfig({ file: parsed.config, env: io.env, cwd: io.cwd });
    db = openAuthDb(config.data_dir);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof AuthDbError) {
      io.err(`spot-gateway ${kind}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    return await run(db, parsed);
  } catch (err) {
    if (err instanceof UserError) {
      io.err(`spot-gateway ${kind}: ${err.message}\n`);
      return 2;
    }
    throw err;
  } finally {
    db.close();
  }
}

function unknown(kind: string, sub: string | undefined, help: string, io: CliIo): number {
  io.err(`spot-gateway: unknown command "${kind} ${sub ?? ''}"\n\n${help}`);
  return 2;
}

function idArg(text: string | undefined): number | string {
  if (text === undefined || !/^\d{1,15}$/.test(text)) return `ID "${text ?? ''}" is not a number (see the list)`;
  return Number(text);
}

export function runTokenCli(args: string[], io: CliIo): Promise<number> {
  return withDb('token', TOKEN_HELP, args, io, (db, p) => {
    const tokens = new SpotTokens(db);
    const [sub, arg] = p.positionals;
    if (sub === 'create') {
      let spot: string | null = null;
      if (p.spot !== undefined) {
        const serial = parseSerial(p.spot);
        if (!serial.ok) throw new UserError(`--spot: ${serial.reason}`);
        spot = serial.value;
      }
      const { id, token } = tokens.create(spot);
      io.err(`token ${id} (${spot === null ? 'site token' : `spot ${spot}`}); shown once, only its hash is kept:\n`);
      io.out(`${token}\n`);
      return 0;
    }
    if (sub === 'list') {
      const rows = tokens.list().map((t) => [String(t.id), t.spot ?? 'site', `${t.prefix}...`, time(t.created), time(t.revoked)]);
      io.out(table([['id', 'spot', 'prefix', 'created', 'revoked'], ...rows]));
      return 0;
    }
    if (sub === 'revoke') {
      const id = idArg(arg);
      if (typeof id === 'string') throw new UserError(id);
      if (!tokens.revoke(id)) {
        io.err(`spot-gateway token: no live token ${id}\n`);
        return 1;
      }
      io.out(`token ${id} revoked\n`);
      return 0;
    }
    return unknown('token', sub, TOKEN_HELP, io);
  });
}

export function runUserCli(args: string[], io: CliIo): Promise<number> {
  return withDb('user', USER_HELP, args, io, async (db, p) => {
    const users = new Users(db);
    const [sub, name] = p.positionals;
    if (sub === 'add') {
      if (name === undefined) throw new UserError('user add NAME: the name is missing');
      if (p.role === undefined) throw new UserError('--role viewer|admin is required');
      const password = ((await io.stdin?.()) ?? '').split(/\r?\n/)[0] ?? '';
      await users.add(name, p.role, password);
      io.out(`user ${name} added (role ${p.role})\n`);
      return 0;
    }
    if (sub === 'remove') {
      if (name === undefined) throw new UserError('user remove NAME: the name is missing');
      if (!users.remove(name)) {
        io.err(`spot-gateway user: no user ${name}\n`);
        return 1;
      }
      io.out(`user ${name} removed, its sessions ended\n`);
      return 0;
    }
    if (sub === 'list') {
      io.out(table([['name', 'role', 'created'], ...users.list().map((u) => [u.name, u.role, time(u.created)])]));
      return 0;
    }
    return unknown('user', sub, USER_HELP, io);
  });
}

export function runApiKeyCli(args: string[], io: CliIo): Promise<number> {
  return withDb('apikey', APIKEY_HELP, args, io, (db, p) => {
    const keys = new ApiKeys(db);
    const [sub, arg] = p.positionals;
    if (sub === 'create') {
      if (arg === undefined) throw new UserError('apikey create NAME: the name is missing');
      if (p.role === undefined) throw new UserError('--role viewer|admin is required');
      const { id, key } = keys.create(arg, p.role);
      io.err(`API key ${id} (${arg}, role ${p.role}); shown once, only its hash is kept:\n`);
      io.out(`${key}\n`);
      return 0;
    }
    if (sub === 'list') {
      const rows = keys.list().map((k) => [String(k.id), k.name, k.role, `${k.prefix}...`, time(k.created), time(k.lastUsed), time(k.revoked)]);
      io.out(table([['id', 'name', 'role', 'prefix', 'created', 'last used', 'revoked'], ...rows]));
      return 0;
    }
    if (sub === 'revoke') {
      const id = idArg(arg);
      if (typeof id === 'string') throw new UserError(id);
      if (!keys.revoke(id)) {
        io.err(`spot-gateway apikey: no live API key ${id}\n`);
        return 1;
      }
      io.out(`API key ${id} revoked\n`);
      return 0;
    }
    return unknown('apikey', sub, APIKEY_HELP, io);
  });
}
