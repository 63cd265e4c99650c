// Group commit: appends from every caller within the window go into one transaction; they settle once it is on disk.
// The parts it drives each do one job: side-writes.ts, retention.ts, size-cap.ts, recovery.ts, hand-over.ts.
import type { Connection } from './connection.js';
import { DurableAcks } from './durable-acks.js';
import type { EventLog, InsertEffects } from './event-log.js';
import type { IndexFlush } from './spot-index.js';
import { committedBySpot, type ForwardGate, forwardingClosedCleanly } from './forward-gate.js';
import type { HandOver } from './hand-over.js';
import type { Recovery } from './recovery.js';
import type { PruneResult, Retention } from './retention.js';
import type { Mark } from './retention-marks.js';
import { SIDE_WORK_DELAY_MS, type SideWrites } from './side-writes.js';
import type { Room, SizeCap } from './size-cap.js';
import type { SpaceKeeper } from './space.js';
import { closedError } from './sqlite-errors.js';
import { SyncHistogram } from './sync-histogram.js';
import type { AppendOutcome, NewEvent, StoreLogger, StoreUnavailableError } from './types.js';

const TICK_MS = 100;
const IDLE_MS = 1000;

/** Settles an append: the error, or one outcome per event. */
export type AppendDone = (err: StoreUnavailableError | null, outcomes: AppendOutcome[]) => void;

interface PendingAppend {
  events: NewEvent[];
  done: AppendDone;
}

const NO_OUTCOMES: AppendOutcome[] = [];

/** What one transaction did; applied to the in-memory view only after COMMIT. */
interface Written {
  pruned: PruneResult | null;
  indexFlush: IndexFlush | null;
  room: Room;
  effects: InsertEffects | null;
  /** The commit's time (store clock) and the retention mark it sealed. */
  at: number;
  sealed: Mark | null;
}

export interface GroupCommitParts {
  conn: Connection;
  log: EventLog;
  sideWrites: SideWrites;
  retention: Retention;
  cap: SizeCap;
  space: SpaceKeeper;
  recovery: Recovery;
  handOver: HandOver;
  gate: ForwardGate;
  logger: StoreLogger;
  /** Monotonic milliseconds: the commit window, pacing, idleness. */
  clock: () => number;
  commitIntervalMs: number;
}

export class GroupCommitter {
  private queue: PendingAppend[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private readonly tickTimer: NodeJS.Timeout;
  private closed = false;
  private lastCommitAt = -Infinity;
  private commitCount = 0;
  /** Durations of the WAL fsyncs acknowledgements waited for. */
  readonly syncTimes = new SyncHistogram();
  private readonly acks: DurableAcks;

  constructor(private readonly p: GroupCommitParts) {
    this.acks = new DurableAcks(p.conn.walSync, (err) => p.recovery.failed(err), this.syncTimes, p.clock);
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.tickTimer.unref();
  }

  /** Group commits since open. */
  get commits(): number {
    return this.commitCount;
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
    const due = this.p.clock() + delayMs;
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

  /**
   * A small write (commands) in its own transaction right away, without waiting for the disk: its fsync is the
   * next one of the store's (off the event loop), and `synced` runs when it is done.
   */
  commitNow<T>(write: () => T, synced?: (err: StoreUnavailableError | null) => void): T {
    if (this.closed) throw closedError(this.p.conn.path);
    const { recovery } = this.p;
    let result: T;
    try {
      recovery.reopenIfBroken();
      result = this.p.conn.raw.transaction(write)();
    } catch (err) {
      throw recovery.failed(err);
    }
    recovery.succeeded();
    this.acks.add({ ack: () => synced?.(null), fail: (e) => synced?.(e) });
    return result;
  }

  /** Runs a small write in its own transaction right away and waits for the disk (quarantine, forgetting spots). */
  durably<T>(write: () => T): T {
    if (this.closed) throw closedError(this.p.conn.path);
    const { recovery } = this.p;
    try {
      recovery.reopenIfBroken();
      const result = this.p.conn.raw.transaction(write)();
      this.acks.syncNow();
      recovery.succeeded();
      return result;
    } catch (err) {
      throw recovery.failed(err);
    }
  }

  /** One transaction with everything queued. Returns the failure, if any (already delivered to callers). */
  private commit(pruneNow = false): StoreUnavailableError | null {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    const batch = this.queue;
    this.queue = [];
    let written: Written;
    try {
      written = this.write(batch, pruneNow);
    } catch (err) {
      this.p.sideWrites.requeue();
      this.p.retention.marks.rolledBack();
      const e = this.p.recovery.failed(err);
      for (const b of batch) this.settle(b, e, NO_OUTCOMES);
      return e;
    }
    this.committed(batch, written);
    return null;
  }

  /** The transaction: side work and pruning first (under policy reject they are what makes room), then the inserts. */
  private write(batch: PendingAppend[], pruneNow: boolean): Written {
    const { conn, log, sideWrites, retention, cap } = this.p;
    const marks = retention.marks;
    const written: Written = { pruned: null, indexFlush: null, room: { accepted: batch.length, drops: [], cut: null }, effects: null, at: 0, sealed: null };
    this.p.recovery.reopenIfBroken();
    written.at = marks.commitTime();
    conn.raw.exec('BEGIN IMMEDIATE');
    const clock = this.p.clock();
    sideWrites.writeIfDue(clock, pruneNow);
    written.pruned = retention.passIfDue(pruneNow);
    // Before the inserts: the flush writes what earlier commits stored.
    if (log.index.flushDue(clock)) written.indexFlush = log.index.flush(log.highestId, log.lowestId() ?? log.highestId + 1, clock);
    if (batch.length > 0) {
      written.room = cap.makeRoom(batch);
      const { accepted } = written.room;
      if (accepted > 0) written.effects = log.insertBatch(batch.slice(0, accepted).map((b) => b.events));
      if (written.effects && written.effects.inserted > 0) written.sealed = marks.sealIfDue(written.at);
    }
    conn.raw.exec('COMMIT');
    return written;
  }

  /** After COMMIT: the in-memory view follows, then the appends settle (at their fsync) and go upstream. */
  private committed(batch: PendingAppend[], { pruned, indexFlush, room, effects, at, sealed }: Written): void {
    const { log, cap, handOver, gate } = this.p;
    this.commitCount++;
    this.lastCommitAt = this.p.clock();
    this.p.sideWrites.committed();
    this.p.space.committed();
    this.p.recovery.succeeded();
    if (pruned) this.p.retention.applyPruned(pruned);
    if (indexFlush) log.index.applyFlush(indexFlush);
    cap.applyRoom(room);
    if (effects) {
      log.applyInserted(effects);
      const stored = batch.slice(0, room.accepted);
      const { outcomes, lastIdBySpot } = effects;
      const highest = effects.ids.length > 0 ? effects.ids[effects.ids.length - 1]! : 0;
      this.p.retention.marks.committed(at, sealed, highest);
      const deliver = (): void => handOver.deliver(lastIdBySpot, committedBySpot(stored, outcomes));
      // Spots get their 200 only once the commit is on disk; the upstreams the events then too,
      // or at once with buffer.forward after-commit (forward-gate.ts).
      const now = gate.atCommit(highest);
      if (now) deliver();
      this.acks.add({
        ack: () => {
          gate.synced(highest, !now, true);
          for (let i = 0; i < stored.length; i++) this.settle(stored[i]!, null, outcomes[i] ?? NO_OUTCOMES);
          if (!now) deliver();
        },
        fail: (e) => {
          gate.synced(highest, !now, false);
          // Its rows are in the database: they go upstream with the next successful fsync, not never.
          if (!now) handOver.owe(lastIdBySpot);
          for (const b of stored) this.settle(b, e, NO_OUTCOMES);
        },
      });
    } else {
      this.p.retention.marks.committed(at, sealed, 0);
      if (handOver.needsSync) this.acks.add(handOver.retry());
    }
    const refused = cap.refusal(room.accepted, batch.length);
    if (refused) for (const b of batch.slice(room.accepted)) this.settle(b, refused, NO_OUTCOMES);
  }

  /** A caller's callback that throws must not keep the others (and the upstreams) from their turn. */
  private settle(b: PendingAppend, err: StoreUnavailableError | null, outcomes: AppendOutcome[]): void {
    try {
      b.done(err, outcomes);
    } catch (thrown) {
      this.p.logger.error({ reason: String(thrown) }, `store: an append callback threw: ${String(thrown)}`);
    }
  }

  /** The maintenance timer: side work, pruning, the index flush and owed hand-overs get a commit of their own when idle; then the file's upkeep. */
  private tick(): void {
    if (this.closed) return;
    const { log, sideWrites, retention, handOver, recovery } = this.p;
    recovery.restoreIfReplaced();
    const indexDue = log.index.flushDue(this.p.clock());
    if (!this.timer && (sideWrites.pending || indexDue || retention.hasWork() || handOver.needsSync)) this.commit(true);
    if (recovery.isBroken || recovery.lastError !== null) return;
    try {
      this.p.space.tidy(this.queue.length === 0 && this.p.clock() - this.lastCommitAt >= IDLE_MS);
    } catch (err) {
      recovery.failed(err);
    }
  }

  /** Writes what is queued, checkpoints, closes; later calls fail with code 'closed'. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.tickTimer);
    this.commit(true);
    this.closed = true;
    try {
      if (!this.p.recovery.isBroken) {
        this.p.retention.marks.sealOpen();
        forwardingClosedCleanly(this.p.conn);
      }
    } catch (err) {
      this.p.logger.warn({ db: this.p.conn.path, reason: String(err) }, 'store: could not mark the close as clean');
    }
    try {
      this.acks.syncNow();
    } catch (err) {
      this.p.logger.warn({ db: this.p.conn.path, reason: String(err) }, 'store: final WAL sync failed');
    }
    try {
      if (!this.p.recovery.isBroken) this.p.conn.raw.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.p.logger.warn({ db: this.p.conn.path, reason: String(err) }, 'store: final checkpoint failed');
    }
    this.p.conn.close();
  }
}
