// Group commit: appends from every caller within the window go into one transaction; they settle once it is on disk.
import type { Connection } from './connection.js';
import { DurableAcks } from './durable-acks.js';
import { moveMainFileAside, rebuildDatabase } from './open-database.js';
import type { CursorBook } from './cursors.js';
import type { DropResult, EventLog, InsertEffects } from './event-log.js';
import type { IndexFlush } from './spot-index.js';
import { committedBySpot, type ForwardGate, forwardingClosedCleanly, setForwardingFlag } from './forward-gate.js';
import { type AppendedListener, HandOver } from './hand-over.js';
import type { RejectedMessages } from './rejected-log.js';
import { SyncHistogram } from './sync-histogram.js';
import { estimateBytes, PRUNE_INTERVAL_MS, PRUNE_PASS_LIMIT, type PruneResult, type SpaceKeeper } from './space.js';
import { closedError, RETRY_AFTER_SECONDS, toUnavailable } from './sqlite-errors.js';
import type { SpotTable } from './spot-registry.js';
import { type AppendOutcome, type NewEvent, type StoreLogger, StoreUnavailableError } from './types.js';

/** Cursor advances, registry updates and rejected messages wait at most this long. */
export const SIDE_WORK_DELAY_MS = 50;
const TICK_MS = 100;
const IDLE_MS = 1000;

/** Settles an append: the error, or one outcome per event. */
export type AppendDone = (err: StoreUnavailableError | null, outcomes: AppendOutcome[]) => void;

interface PendingAppend {
  events: NewEvent[];
  done: AppendDone;
}

const NO_OUTCOMES: AppendOutcome[] = [];

export interface GroupCommitParts {
  conn: Connection;
  instanceId: string;
  log: EventLog;
  cursors: CursorBook;
  space: SpaceKeeper;
  spots: SpotTable;
  rejected: RejectedMessages;
  logger: StoreLogger;
  now: () => number;
  commitIntervalMs: number;
  gate: ForwardGate;
  onAppended: AppendedListener;
}

export class GroupCommitter {
  private queue: PendingAppend[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private readonly tickTimer: NodeJS.Timeout;
  private broken = false;
  /** The file itself is damaged: the next write moves it aside and continues on a fresh one. */
  private damaged = false;
  private closed = false;
  private lastCommitAt = 0;
  /** performance.now() of the last prune pass (monotonic: pruning is paced, not scheduled). */
  private lastPruneAt = -Infinity;
  private lastSideWorkAt = -Infinity;
  commits = 0;
  dropped = 0;
  /** Durations of the WAL fsyncs acknowledgements waited for. */
  readonly syncTimes = new SyncHistogram();
  lastError: string | null = null;
  /** Policy reject is refusing appends (warned once per episode); when the cap last dropped events (drop-oldest). */
  refusing = false;
  lastDropAt: number | null = null;

  private readonly acks: DurableAcks;
  private readonly handOver: HandOver;

  constructor(private readonly p: GroupCommitParts) {
    this.acks = new DurableAcks(p.conn.walSync, (err) => this.failed(err), this.syncTimes);
    this.handOver = new HandOver(p.log, p.onAppended);
    const row = p.conn.stmt("SELECT value FROM meta WHERE key = 'dropped'").get() as { value: string } | undefined;
    this.dropped = row ? Number(row.value) : 0;
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.tickTimer.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  append(events: NewEvent[]): Promise<AppendOutcome[]> {
    return new Promise((resolve, reject) => this.appendWith(events, (err, outcomes) => (err ? reject(err) : resolve(outcomes))));
  }

  /** The same with a callback: no promise per chunk on the ingest path (they showed in GC). */
  appendWith(events: NewEvent[], done: AppendDone): void {
    if (this.closed) {
      done(closedError(this.p.conn.path), NO_OUTCOMES);
      return;
    }
    if (events.length === 0) {
      done(null, []);
      return;
    }
    this.queue.push({ events, done });
    this.schedule(this.p.commitIntervalMs);
  }

  /** Side work (cursors, registry, rejected) is written with the next commit, or on its own soon. */
  requestFlush(): void {
    if (!this.closed) this.schedule(SIDE_WORK_DELAY_MS);
  }

  private schedule(delayMs: number): void {
    const due = Date.now() + delayMs;
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.commit(), delayMs);
  }

  /** Writes everything queued now; throws the failure if it could not. */
  flush(): void {
    if (this.closed) throw closedError(this.p.conn.path);
    const err = this.commit(true);
    if (err) throw err;
    this.acks.syncNow();
  }

  /** Runs a small write in its own transaction right away (commands). */
  durably<T>(write: () => T): T {
    if (this.closed) throw closedError(this.p.conn.path);
    try {
      this.reopenIfBroken();
      const result = this.p.conn.raw.transaction(write)();
      this.acks.syncNow();
      this.succeeded();
      return result;
    } catch (err) {
      throw this.failed(err);
    }
  }

  private reopenIfBroken(): void {
    if (!this.broken) return;
    if (this.damaged) {
      this.rebuild();
      this.damaged = false;
      this.broken = false;
      return;
    }
    this.p.conn.reopen();
    // A COMMIT that reported failure may still have reached the disk: reread what memory derives from it.
    const { log } = this.p;
    const before = new Map(log.lastIdBySpot);
    const handed = log.acknowledgedId;
    log.load();
    // Rows no commit reported go upstream like a failed fsync's: at the next successful one (hand-over.ts).
    log.acknowledgedId = handed;
    this.handOver.reloaded(before, log.lastIdBySpot);
    this.broken = false;
  }

  private rebuild(): void {
    const { conn, log, cursors, spots, space, logger } = this.p;
    const unforwarded = log.count;
    const lastEventId = Math.max(log.highestId, cursors.maxId());
    const aside = rebuildDatabase(conn, { instanceId: this.p.instanceId, lastEventId, now: this.p.now() });
    conn
      .stmt("INSERT INTO meta (key, value) VALUES ('dropped', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(String(this.dropped));
    setForwardingFlag(conn, this.p.gate.aheadOfDisk);
    log.load();
    space.forgetPruned();
    cursors.markAllDirty();
    spots.markAllDirty();
    this.p.rejected.markTotalDirty();
    logger.error(
      { db: conn.path, movedTo: aside, eventsInIt: unforwarded, lastEventId },
      `store: database ${conn.path} is damaged (${this.lastError ?? 'unknown'}); moved aside to ${aside} with its ${unforwarded} stored events and queued commands; continuing on a fresh file after event id ${lastEventId}`,
    );
  }

  private succeeded(): void {
    if (this.lastError !== null) {
      this.p.logger.info({ db: this.p.conn.path, previousError: this.lastError }, 'store: writing again');
      this.lastError = null;
    }
  }

  private failed(err: unknown): StoreUnavailableError {
    if (this.p.conn.isOpen && this.p.conn.inTransaction) {
      try {
        this.p.conn.raw.exec('ROLLBACK');
      } catch {
        // SQLite may already have rolled back on the error
      }
    }
    const e = toUnavailable(err, this.p.conn.path);
    // The cap refusing a batch is not a connection problem; anything from SQLite may be.
    if (!(err instanceof StoreUnavailableError)) this.broken = true;
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) this.damaged = true;
    if (e.message !== this.lastError) {
      this.p.logger.error({ db: this.p.conn.path, code: e.code, reason: e.message }, e.message);
    }
    this.lastError = e.message;
    return e;
  }

  /** One transaction with everything queued. Returns the failure, if any (already delivered to callers). */
  private commit(pruneNow = false): StoreUnavailableError | null {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    const batch = this.queue;
    this.queue = [];
    const { conn, log, cursors, space, spots, rejected } = this.p;
    let cursorsTaken: ReturnType<CursorBook['writeDirty']> = [];
    let spotsTaken: string[] = [];
    let rejectedTaken: ReturnType<RejectedMessages['writeQueued']> = [];
    let accepted = batch.length;
    let drops: DropResult[] = [];
    let pruned: PruneResult = { deleted: 0, done: new Map(), goneBelow: 0 };
    let effects: InsertEffects | null = null;
    let indexFlush: IndexFlush | null = null;
    try {
      this.reopenIfBroken();
      conn.raw.exec('BEGIN IMMEDIATE');
      const clock = performance.now();
      // Side work first: under policy reject, pruning and cursors are what make room again.
      // Side work rides along at most every SIDE_WORK_DELAY_MS: 200 cursor upserts in every
      // commit cost as much as the events. Until written, a cursor is only behind (redelivery).
      const sideDue = pruneNow || clock - this.lastSideWorkAt >= SIDE_WORK_DELAY_MS;
      if (sideDue) {
        cursorsTaken = cursors.writeDirty(conn);
        spotsTaken = spots.writeDirty();
        rejectedTaken = rejected.writeQueued();
        this.lastSideWorkAt = clock;
      }
      // Pruning is paced (space.ts): in every commit it cost more than the inserts.
      if (pruneNow || clock - this.lastPruneAt >= PRUNE_INTERVAL_MS) {
        pruned = space.pruneStep(PRUNE_PASS_LIMIT, clock);
        this.lastPruneAt = clock;
      }
      // Before the inserts: the flush writes what earlier commits stored.
      if (log.index.flushDue(clock)) indexFlush = log.index.flush(log.highestId, log.lowestId() ?? log.highestId + 1, clock);
      if (batch.length > 0) {
        const room = space.makeRoom(batch.map((b) => estimateBytes(b.events)));
        accepted = room.accepted;
        drops = room.drops;
        if (accepted > 0) effects = log.insertBatch(batch.slice(0, accepted).map((b) => b.events));
      }
      const droppedNow = drops.reduce((n, d) => n + d.count, 0);
      if (droppedNow > 0) {
        conn
          .stmt("INSERT INTO meta (key, value) VALUES ('dropped', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
          .run(String(this.dropped + droppedNow));
      }
      conn.raw.exec('COMMIT');
    } catch (err) {
      cursors.requeue(cursorsTaken);
      spots.requeue(spotsTaken);
      rejected.requeue(rejectedTaken);
      const e = this.failed(err);
      for (const b of batch) this.settle(b, e, NO_OUTCOMES);
      return e;
    }
    this.commits++;
    this.lastCommitAt = this.p.now();
    space.committed();
    this.succeeded();
    log.count -= pruned.deleted;
    space.applyPruned(pruned);
    if (indexFlush) log.index.applyFlush(indexFlush);
    log.index.goneBelow(pruned.goneBelow);
    this.applyDrops(drops);
    if (effects) {
      log.applyInserted(effects);
      const stored = batch.slice(0, accepted);
      const { outcomes, lastIdBySpot } = effects;
      const highest = effects.ids.length > 0 ? effects.ids[effects.ids.length - 1]! : 0;
      const handOver = (): void => this.handOver.deliver(lastIdBySpot, committedBySpot(stored, outcomes));
      // Spots get their 200 only once the commit is on disk; the upstreams the events then too,
      // or at once with buffer.forward after-commit (forward-gate.ts).
      const now = this.p.gate.atCommit(highest);
      if (now) handOver();
      this.acks.add({
        ack: () => {
          this.p.gate.synced(highest, !now, true);
          for (let i = 0; i < stored.length; i++) this.settle(stored[i]!, null, outcomes[i] ?? NO_OUTCOMES);
          if (!now) handOver();
        },
        fail: (e) => {
          this.p.gate.synced(highest, !now, false);
          // Its rows are in the database: they go upstream with the next successful fsync, not never.
          if (!now) this.handOver.owe(lastIdBySpot);
          for (const b of stored) this.settle(b, e, NO_OUTCOMES);
        },
      });
    } else if (this.handOver.needsSync) {
      this.acks.add(this.handOver.retry());
    }
    if (accepted < batch.length) {
      const e = new StoreUnavailableError(
        `store ${conn.path}: buffer full (cap ${Math.round(space.budget.maxBytes / 1048576)} MiB, policy reject); events are stored again once forwarded ones are pruned`,
        'full',
        RETRY_AFTER_SECONDS,
      );
      if (!this.refusing) this.p.logger.warn({ db: conn.path, code: 'full' }, e.message);
      this.refusing = true;
      for (const b of batch.slice(accepted)) this.settle(b, e, NO_OUTCOMES);
    } else if (this.refusing && batch.length > 0) {
      this.p.logger.info({ db: conn.path }, 'store: buffer has room again, storing events');
      this.refusing = false;
    }
    return null;
  }

  /** A caller's callback that throws must not keep the others (and the upstreams) from their turn. */
  private settle(b: PendingAppend, err: StoreUnavailableError | null, outcomes: AppendOutcome[]): void {
    try {
      b.done(err, outcomes);
    } catch (thrown) {
      this.p.logger.error({ reason: String(thrown) }, `store: an append callback threw: ${String(thrown)}`);
    }
  }

  private applyDrops(drops: DropResult[]): void {
    if (drops.length === 0) return;
    let count = 0;
    const bySpot = new Map<string, number>();
    for (const d of drops) {
      count += d.count;
      for (const [spot, id] of d.bySpot) bySpot.set(spot, Math.max(id, bySpot.get(spot) ?? 0));
    }
    this.dropped += count;
    this.lastDropAt = this.p.now();
    this.p.log.count -= count;
    this.p.log.index.goneBelow(drops[drops.length - 1]!.lastId + 1);
    // An upstream cannot forward what is gone: its cursor moves past the dropped events.
    for (const upstream of this.p.cursors.upstreams) {
      for (const [spot, id] of bySpot) this.p.cursors.advance(upstream, spot, id);
    }
    this.p.logger.warn(
      {
        dropped: count,
        firstId: drops[0]!.firstId,
        lastId: drops[drops.length - 1]!.lastId,
        droppedTotal: this.dropped,
        spots: bySpot.size,
      },
      `store: buffer over its cap of ${Math.round(this.p.space.budget.maxBytes / 1048576)} MiB: dropped the ${count} oldest events (ids ${drops[0]!.firstId}..${drops[drops.length - 1]!.lastId}), ${this.dropped} dropped in total`,
    );
    this.requestFlush();
  }

  /** The file was replaced or deleted under the open connection: write what the connection holds back. */
  private restoreReplacedFile(): void {
    const { conn, logger } = this.p;
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

  private tick(): void {
    if (this.closed) return;
    if (!this.broken && this.p.conn.fileReplaced()) this.restoreReplacedFile();
    const { cursors, spots, rejected, space } = this.p;
    const indexDue = this.p.log.index.flushDue(performance.now());
    const owed = this.handOver.needsSync;
    if (!this.timer && (cursors.hasDirty || spots.hasDirty || rejected.hasQueued || indexDue || space.hasPruneWork() || owed)) {
      this.commit(true);
    }
    if (this.broken || this.lastError !== null) return;
    try {
      space.tidy(this.queue.length === 0 && this.p.now() - this.lastCommitAt >= IDLE_MS);
    } catch (err) {
      this.failed(err);
    }
  }

  /** Writes what is queued, checkpoints, closes; later calls fail with code 'closed'. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.tickTimer);
    this.commit(true);
    this.closed = true;
    try {
      if (!this.broken) forwardingClosedCleanly(this.p.conn);
    } catch (err) {
      this.p.logger.warn({ db: this.p.conn.path, reason: String(err) }, 'store: could not mark the close as clean');
    }
    try {
      this.acks.syncNow();
    } catch (err) {
      this.p.logger.warn({ db: this.p.conn.path, reason: String(err) }, 'store: final WAL sync failed');
    }
    try {
      if (!this.broken) this.p.conn.raw.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.p.logger.warn({ db: this.p.conn.path, reason: String(err) }, 'store: final checkpoint failed');
    }
    this.p.conn.close();
  }
}
