// `spot-gateway backup FILE` (the running gateway copies its database online, POST /api/backup) and
// `spot-gateway restore FILE` (the gateway stopped: the backup checked and put in place, the old file kept).
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BackupFileError, checkBackup, continueIdsAbove, databaseInUse, lastEventIdOf } from '../store/backup-file.js';
import { DB_FILE } from '../store/index.js';
import type { CliIo } from './index.js';
import { callGateway, GatewayUnreachableError } from './gateway-api.js';
import { gatewayBase, opsConfig, parseOpsArgs } from './ops-options.js';

export const BACKUP_HELP = `Usage: spot-gateway backup FILE [--config PATH] [--url URL]

Asks the running gateway for a copy of its database (POST /api/backup: SQLite's
online backup, consistent while spots post) and writes it to FILE, which must
not exist yet. The copy is then checked (SQLite's integrity_check) and described.
Exits 0 on success, 1 when the gateway does not answer or the copy fails.

Options:
  -c, --config PATH  YAML configuration file (default ./gateway.yaml if present)
      --url URL      the gateway's address, e.g. http://127.0.0.1:8080
  -h, --help         this help
`;

export const RESTORE_HELP = `Usage: spot-gateway restore FILE [--config PATH]

Puts a backup in place of the database in data_dir, with the gateway stopped:
refuses while a process has the database open (the gateway running), refuses a
file that fails SQLite's integrity_check or is not a spot-gateway database of a
schema version this gateway knows. The database it replaces is kept beside it
(spot-gateway.db.before-restore-<time>); new events get ids above every id the
replaced one had handed out. Exits 0 when restored, 1 otherwise.

Options:
  -c, --config PATH  YAML configuration file (default ./gateway.yaml if present)
  -h, --help         this help
`;

/** A backup is the whole database: no bound fits every size, but a stalled transfer must end (10 min for the whole copy). */
const BACKUP_TIMEOUT_MS = 10 * 60_000;

export async function runBackupCli(args: string[], io: CliIo): Promise<number> {
  const parsed = parseOpsArgs(args, BACKUP_HELP, io, { url: true });
  if (!parsed) return 2;
  if (parsed.help) {
    io.out(BACKUP_HELP);
    return 0;
  }
  const [target, extra] = parsed.positionals;
  if (target === undefined || extra !== undefined) {
    io.err(`spot-gateway: backup takes one FILE\n\n${BACKUP_HELP}`);
    return 2;
  }
  const file = path.resolve(io.cwd, target);
  if (fs.existsSync(file)) {
    io.err(`spot-gateway: ${file} exists already; give a new file name (a backup never overwrites)\n`);
    return 1;
  }
  if (!fs.existsSync(path.dirname(file))) {
    io.err(`spot-gateway: directory ${path.dirname(file)} does not exist\n`);
    return 1;
  }
  const base = gatewayBase(parsed, io);
  if (base === null) return 2;
  const partial = `${file}.partial`;
  try {
    const res = await callGateway(base, '/api/backup', { method: 'POST', timeoutMs: BACKUP_TIMEOUT_MS }, io.env);
    if (!res.ok || res.body === null) {
      const text = await res.text();
      let reason = text.slice(0, 300);
      try {
        reason = (JSON.parse(text) as { reason?: string }).reason ?? reason;
      } catch {
        // not JSON: the text itself
      }
      io.err(`spot-gateway: the gateway at ${base} refused the backup (${res.status}): ${reason}\n`);
      return 1;
    }
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), fs.createWriteStream(partial, { flags: 'wx' }));
    const handle = fs.openSync(partial, 'r');
    fs.fsyncSync(handle);
    fs.closeSync(handle);
    const facts = checkBackup(partial);
    fs.renameSync(partial, file);
    const bytes = fs.statSync(file).size;
    io.out(
      `backup: ${file}: ${bytes} bytes, ${facts.events} events, event ids up to ${facts.lastEventId}, schema version ${facts.schemaVersion}, instance ${facts.instanceId}; integrity_check ok\n`,
    );
    return 0;
  } catch (err) {
    fs.rmSync(partial, { force: true });
    const reason = err instanceof GatewayUnreachableError || err instanceof BackupFileError ? err.message : `backup from ${base} failed: ${(err as Error).message}`;
    io.err(`spot-gateway: ${reason}\n`);
    return 1;
  }
}

/** The live database and its companions go aside under one name; returns it. */
function moveCurrentAside(db: string, now: Date): string {
  const aside = `${db}.before-restore-${now.toISOString()}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (fs.existsSync(db + suffix)) fs.renameSync(db + suffix, aside + suffix);
  }
  return aside;
}

/** Run as root, the restored file is given to the data dir's owner (the service user): the gateway must write it. */
function ownLikeDir(file: string, dir: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  const owner = fs.statSync(dir);
  fs.chownSync(file, owner.uid, owner.gid);
}

export async function runRestoreCli(args: string[], io: CliIo, now: () => Date = () => new Date()): Promise<number> {
  const parsed = parseOpsArgs(args, RESTORE_HELP, io);
  if (!parsed) return 2;
  if (parsed.help) {
    io.out(RESTORE_HELP);
    return 0;
  }
  const [source, extra] = parsed.positionals;
  if (source === undefined || extra !== undefined) {
    io.err(`spot-gateway: restore takes one FILE\n\n${RESTORE_HELP}`);
    return 2;
  }
  const config = opsConfig(parsed, io);
  if (!config) return 2;
  const backup = path.resolve(io.cwd, source);
  const dataDir = path.resolve(io.cwd, config.data_dir);
  const db = path.join(dataDir, DB_FILE);
  const staged = `${db}.restoring`;
  try {
    if (!fs.existsSync(backup)) throw new BackupFileError(`${backup} does not exist`);
    const facts = checkBackup(backup);
    fs.mkdirSync(dataDir, { recursive: true });
    const present = fs.existsSync(db);
    const inUse = present ? databaseInUse(db) : false;
    if (inUse === true) {
      io.err(`spot-gateway: ${db} is open in another process (the gateway is running): stop it first (systemctl stop spot-gateway), then restore\n`);
      return 1;
    }
    const before = present ? lastEventIdOf(db) : 0;
    fs.copyFileSync(backup, staged);
    for (const suffix of ['-journal', '-wal', '-shm']) fs.rmSync(staged + suffix, { force: true });
    if (before > facts.lastEventId) continueIdsAbove(staged, before);
    const handle = fs.openSync(staged, 'r');
    fs.fsyncSync(handle);
    fs.closeSync(handle);
    ownLikeDir(staged, dataDir);
    const aside = present ? moveCurrentAside(db, now()) : null;
    fs.rmSync(`${db}-wal.kept`, { force: true });
    fs.renameSync(staged, db);
    io.out(
      `restore: ${backup} (${facts.events} events, ids up to ${facts.lastEventId}, schema version ${facts.schemaVersion}) is now ${db}\n` +
        (aside ? `the database it replaced is kept as ${aside}\n` : 'there was no database to replace\n') +
        (inUse === 'unreadable' ? 'the replaced database could not be read (damaged): new event ids continue from the backup\'s\n' : '') +
        (before > facts.lastEventId ? `new events get ids above ${before}, the highest the replaced database handed out\n` : '') +
        'start the gateway: systemctl start spot-gateway\n',
    );
    return 0;
  } catch (err) {
    fs.rmSync(staged, { force: true });
    const reason = err instanceof BackupFileError ? err.message : `restore into ${db} failed: ${(err as Error).message}`;
    io.err(`spot-gateway: ${reason}\n`);
    return 1;
  }
}
