// Operations routes: the log level at run time, and the online backup of the database (docs/operations.md).
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { LogLevel } from '../config/schema.js';
import { settleBackup } from '../store/backup-file.js';
import { badRequest } from './errors.js';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface OpsDeps {
  logLevel(): string;
  setLogLevel(level: LogLevel): void;
  /** The store's online backup into a new file (Store.backup). */
  backup(file: string): Promise<void>;
  /** Where the copy is made before it is sent: the data directory (same filesystem, writable under the unit's hardening). */
  dataDir: string;
  now: () => number;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** The copy waits in the data dir while it is sent, under a name the store never opens. */
export const BACKUP_TMP_PREFIX = '.backup-';

export function registerOpsRoutes(app: FastifyInstance, deps: OpsDeps): void {
  app.get('/api/log-level', async () => ({ level: deps.logLevel() }));

  app.put<{ Body: unknown }>('/api/log-level', async (request, reply) => {
    const body = request.body as { level?: unknown } | null;
    const level = body !== null && typeof body === 'object' ? body.level : undefined;
    if (typeof level !== 'string' || !(LOG_LEVELS as readonly string[]).includes(level)) {
      return badRequest(reply, `level must be one of ${LOG_LEVELS.join(', ')} (got ${level === undefined ? 'nothing' : JSON.stringify(level)})`);
    }
    const previous = deps.logLevel();
    deps.setLogLevel(level as LogLevel);
    // At warn: the line shows whatever the new level, so the journal says who changed it.
    deps.logger.warn({ to: level, from: previous, via: 'api' }, `log level ${previous} -> ${level} (PUT /api/log-level; a restart or a SIGHUP that changes log.level sets it again)`);
    return { level, previous };
  });

  let running = false;
  app.post('/api/backup', async (_request, reply) => {
    if (running) return reply.code(409).send({ error: 'conflict', reason: 'a backup is already being made; try again when it is done' });
    running = true;
    const file = path.join(deps.dataDir, `${BACKUP_TMP_PREFIX}${deps.now()}-${process.pid}.db`);
    const remove = (): void => {
      running = false;
      for (const suffix of ['', '-journal', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
    };
    let facts;
    const started = deps.now();
    try {
      await deps.backup(file);
      facts = settleBackup(file);
    } catch (err) {
      remove();
      const reason = err instanceof Error ? err.message : String(err);
      deps.logger.warn({ reason }, `backup failed: ${reason}`);
      return reply.code(503).send({ error: 'backup failed', reason });
    }
    const size = fs.statSync(file).size;
    deps.logger.info(
      { bytes: size, lastEventId: facts.lastEventId, events: facts.events, ms: deps.now() - started },
      `backup: ${size} bytes, ${facts.events} events, ids up to ${facts.lastEventId}`,
    );
    const stream = fs.createReadStream(file);
    stream.once('close', remove);
    return reply
      .header('content-type', 'application/vnd.sqlite3')
      .header('content-length', String(size))
      .header('content-disposition', 'attachment; filename="spot-gateway-backup.db"')
      .header('x-spot-gateway-last-event-id', String(facts.lastEventId))
      .header('x-spot-gateway-schema-version', String(facts.schemaVersion))
      .header('x-spot-gateway-instance-id', facts.instanceId)
      .send(stream);
  });
}
