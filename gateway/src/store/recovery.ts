// Recovery after a failed write: the connection is reopened before the next one, a damaged file is
// moved aside and rebuilt, a file replaced under the running gateway is written back; each distinct
// failure is logged once (docs/storage.md, "Corrupt or unreadable file", "Group commit").
import type { Connection } from './connection.js';
import type { CursorBook } from './cursors.js';
import type { EventLog } from './event-log.js';
import { setForwardingFlag } from './forward-gate.js';
import type { HandOver } from './hand-over.js';
import { moveMainFileAside, rebuildDatabase } from './open-database.js';
import type { RejectedMessages } from './rejected-log.js';
import type { Retention } from './retention.js';
import type { SizeCap } from './size-cap.js';
import { toUnavailable } from './sqlite-errors.js';
import type { SpotTable } from './spot-registry.js';
import { type StoreLogger, StoreUnavailableError } from './types.js';

export interface RecoveryParts {
  conn: Connection;
  instanceId: string;
  log: EventLog;
  cursors: CursorBook;
  spots: SpotTable;
  rejected: RejectedMessages;
  retention: Retention;
  cap: SizeCap;
  handOver: HandOver;
  /** Events go upstream before the disk has them (forward-gate.ts): a rebuilt file is marked so too. */
  aheadOfDisk: boolean;
  logger: StoreLogger;
  /** Wall-clock milliseconds: names of the files moved aside. */
  now: () => number;
}

export class Recovery {
  private broken = false;
  /** The file itself is damaged: the next write moves it aside and continues on a fresh one. */
  private damaged = false;
  private error: string | null = null;

  constructor(private readonly p: RecoveryParts) {}

  /** A write failed and the connection was not reopened since. */
  get isBroken(): boolean {
    return this.broken;
  }

  /** Reason of the last failed write, null after a successful one. */
  get lastError(): string | null {
    return this.error;
  }

  /** Before a write: reopens the connection after a failure, or rebuilds a damaged file. */
  reopenIfBroken(): void {
    if (!this.broken) return;
    if (this.damaged) {
      this.rebuild();
      this.damaged = false;
      this.broken = false;
      return;
    }
    this.p.conn.reopen();
    const { log } = this.p;
    const before = new Map(log.lastIdBySpot);
    log.reload();
    // Rows no commit reported go upstream like a failed fsync's: at the next successful one (hand-over.ts).
    this.p.handOver.reloaded(before, log.lastIdBySpot);
    this.broken = false;
  }

  private rebuild(): void {
    const { conn, log, cursors, spots, logger } = this.p;
    const unforwarded = log.count;
    const lastEventId = Math.max(log.highestId, cursors.maxId());
    const aside = rebuildDatabase(conn, { instanceId: this.p.instanceId, lastEventId, now: this.p.now() });
    this.p.cap.rebuilt();
    setForwardingFlag(conn, this.p.aheadOfDisk);
    log.load();
    this.p.retention.forgetPruned();
    cursors.markAllDirty();
    spots.markAllDirty();
    this.p.rejected.markTotalDirty();
    logger.error(
      { db: conn.path, movedTo: aside, eventsInIt: unforwarded, lastEventId },
      `store: database ${conn.path} is damaged (${this.error ?? 'unknown'}); moved aside to ${aside} with its ${unforwarded} stored events and queued commands; continuing on a fresh file after event id ${lastEventId}`,
    );
  }

  succeeded(): void {
    if (this.error !== null) {
      this.p.logger.info({ db: this.p.conn.path, previousError: this.error }, 'store: writing again');
      this.error = null;
    }
  }

  /** Rolls back, notes what the failure says about the connection and the file, logs it once; the error for the callers. */
  failed(err: unknown): StoreUnavailableError {
    const { conn, logger } = this.p;
    if (conn.isOpen && conn.inTransaction) {
      try {
        conn.raw.exec('ROLLBACK');
      } catch {
        // SQLite may already have rolled back on the error
      }
    }
    const e = toUnavailable(err, conn.path);
    // The cap refusing a batch is not a connection problem; anything from SQLite may be.
    if (!(err instanceof StoreUnavailableError)) this.broken = true;
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) this.damaged = true;
    if (e.message !== this.error) {
      logger.error({ db: conn.path, code: e.code, reason: e.message }, e.message);
    }
    this.error = e.message;
    return e;
  }

  /** On the maintenance timer: the file was replaced or deleted under the open connection: write what the connection holds back. */
  restoreIfReplaced(): void {
    const { conn, logger } = this.p;
    if (this.broken || !conn.fileReplaced()) return;
    try {
      const foreign = conn.restoreFile(() => moveMainFileAside(conn.path, this.p.now()));
      logger.error(
        { db: conn.path, foreign },
        foreign
          ? `store: database ${conn.path} was replaced by another file while running; that file was moved to ${foreign} and the gateway's data written back`
          : `store: database ${conn.path} was deleted while running; the gateway's data was written back`,
      );
    } catch (err) {
      this.failed(err);
    }
  }
}
