// openStore: the durable buffer (events log, cursors, commands, registry, rejected) on one SQLite file.
import { randomUUID } from 'node:crypto';
import { CommandTable } from './command-queue.js';
import { Backlog } from './backlog.js';
import { CursorBook } from './cursors.js';
import { EventLog } from './event-log.js';
import { SpotForgetter } from './forget.js';
import { ForwardGate, prepareForwarding } from './forward-gate.js';
import { GroupCommitter } from './group-commit.js';
import { openDatabase } from './open-database.js';
import { QuarantineTable } from './quarantine.js';
import { RejectedMessages } from './rejected-log.js';
import { budgetFor, pragmasFor, SpaceKeeper } from './space.js';
import { SpotTable } from './spot-registry.js';
import type { ListedEvent, PendingSpot, Store, StoreLogger, StoreOptions, StoreStatus, StoredEvent } from './types.js';

export * from './types.js';
export { DB_FILE } from './open-database.js';

export const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_COMMIT_INTERVAL_MS = 5;
/** Below this the empty schema and the WAL reserve leave no room for events. */
export const MIN_MAX_BYTES = 256 * 1024;
/** Stored events looked at, at most, for the oldest unforwarded one. */
const OLDEST_SCAN_ROWS = 1000;

const silentLogger: StoreLogger = { info() {}, warn() {}, error() {}, debug() {} };

export function openStore(opts: StoreOptions): Store {
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? Date.now;
  const upstreams = [...new Set(opts.upstreams ?? [])];
  const policy = opts.policy ?? 'drop-oldest';
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!(maxBytes >= MIN_MAX_BYTES)) {
    throw new RangeError(`store: buffer size cap ${maxBytes} bytes is below the minimum of 256 KiB (buffer.max_mb >= 0.25)`);
  }
  const commitIntervalMs = opts.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
  if (!(commitIntervalMs >= 0)) throw new RangeError(`store: commitIntervalMs must be >= 0, got ${commitIntervalMs}`);
  const budget = budgetFor(maxBytes);
  const forwardAfterCommit = opts.forwardAfterCommit ?? false;
  // Without the store's own fsync (durability normal/off) events go upstream before the disk has them anyway.
  const aheadOfDisk = forwardAfterCommit || (opts.durability ?? 'full') !== 'full';
  const listeners = new Set<(spot: string, lastId: number, events?: readonly StoredEvent[]) => void>();
  let writer: GroupCommitter | null = null;
  const requestFlush = (): void => writer?.requestFlush();
  // Loading reads each table (the events one through its index): damage found here moves the file aside.
  const { conn, instanceId, movedAside, loaded } = openDatabase(
    {
      dataDir: opts.dataDir,
      settings: pragmasFor(budget, opts.durability ?? 'full'),
      logger,
      now,
      randomUUID: opts.randomUUID ?? randomUUID,
    },
    (c) => {
      const skipped = prepareForwarding(c, aheadOfDisk);
      if (skipped > 0) {
        logger.warn(
          { db: c.path, skipped },
          `store: the gateway stopped uncleanly while forwarding ahead of the disk; event ids continue ${skipped} higher, so none forwarded before is reused`,
        );
      }
      const log = new EventLog(c, opts.indexFlushMs);
      log.load();
      const cursors = new CursorBook(upstreams);
      cursors.load(c);
      const spots = new SpotTable(c, now, requestFlush);
      spots.load();
      const rejected = new RejectedMessages(c, requestFlush);
      rejected.load();
      c.stmt('SELECT count(*) FROM commands').get();
      return { log, cursors, spots, rejected };
    },
  );
  const { log, cursors, spots, rejected } = loaded;
  // A spot with nothing above any cursor (or with no upstream) needs no newest id in memory: O(spots with a backlog).
  const backlog = new Backlog(
    cursors,
    (spot) => log.lastIdBySpot.get(spot) ?? 0,
    (spot) => log.forget(spot),
    (spot, afterId, upTo) => log.countBetween(spot, afterId, upTo),
  );
  const space = new SpaceKeeper(conn, log, cursors, backlog, budget, policy);
  /** After a load: every spot with stored events may hold forwarded ones to prune, and the backlog is read again. */
  const reloaded = (spots: Iterable<string>): void => {
    const all = [...spots];
    for (const spot of all) space.cursorMoved(spot);
    backlog.rebuild(all);
  };
  reloaded(log.lastIdBySpot.keys());
  log.observer = {
    appended: (spot, firstId) => backlog.appended(spot, firstId),
    stored: (n) => backlog.stored(n),
    dropped: (events) => backlog.dropped(events),
    loaded: reloaded,
  };
  cursors.onAdvance = (upstream, spot, from, to) => {
    backlog.advanced(upstream, spot, from, to);
    space.cursorMoved(spot);
  };
  const committer = new GroupCommitter({
    conn,
    instanceId,
    log,
    cursors,
    space,
    spots,
    rejected,
    logger,
    now,
    commitIntervalMs,
    gate: new ForwardGate(forwardAfterCommit, log.highestId, aheadOfDisk),
    onAppended: (spot, lastId, events) => {
      for (const cb of listeners) {
        try {
          cb(spot, lastId, events);
        } catch (err) {
          logger.error({ spot, reason: String(err) }, 'store: an onAppended listener threw');
        }
      }
    },
  });
  writer = committer;
  const forgetter = new SpotForgetter({ conn, log, cursors, backlog, space, spots, durably: (write) => committer.durably(write) });
  const commands = new CommandTable(conn, (write) => committer.durably(write), now);
  const quarantine = new QuarantineTable(conn, log, cursors, (write) => committer.durably(write), now);

  function knownUpstream(upstream: string): void {
    if (!upstreams.includes(upstream)) {
      throw new Error(`store: unknown upstream "${upstream}" (configured: ${upstreams.join(', ') || 'none'})`);
    }
  }

  /** O(spots with a backlog): backlog.ts. */
  function pendingSpots(upstream: string): PendingSpot[] {
    knownUpstream(upstream);
    const out: PendingSpot[] = [];
    for (const spot of backlog.spots(upstream)) out.push({ spot, cursor: cursors.get(upstream, spot), lastId: log.lastIdBySpot.get(spot) ?? 0 });
    return out;
  }

  /**
   * Every unforwarded event is at or above the lowest id some spot still needs: the first of the
   * stored events from there whose spot's common cursor is below it (the others are forwarded
   * events not pruned yet, a few at most).
   */
  function oldestUnforwardedTime(): number | null {
    if (upstreams.length === 0) return log.oldestTime();
    if (!backlog.lagging) return null;
    let last: number | null = null;
    for (const e of log.scanFrom(backlog.keepFrom(log.highestId), OLDEST_SCAN_ROWS)) {
      if (e.id > cursors.minFor(e.spot)) return e.timeReceived;
      last = e.timeReceived;
    }
    // Past the scan's bound: the age shown is at most that much too old.
    return last;
  }

  /** What the old count did: one indexed count per spot with a backlog (after a load or a drop only). */
  function recountPending(upstream: string): number {
    const lowest = log.lowestId();
    let events = 0;
    for (const spot of backlog.spots(upstream)) events += log.countAfter(spot, cursors.get(upstream, spot), lowest);
    return events;
  }

  logger.info(
    { db: conn.path, instanceId, events: log.count, upstreams, policy, maxBytes: budget.maxBytes, movedAside },
    `store: opened ${conn.path} with ${log.count} events`,
  );

  return {
    instanceId,
    dbPath: conn.path,
    upstreams,
    append: (events) => committer.append(events),
    appendWith: (events, done) => committer.appendWith(events, done),
    pendingSpots,
    readSpot: (upstream, spot, afterId, limit) => {
      knownUpstream(upstream);
      return log.readSpot(spot, afterId, limit);
    },
    advanceCursor: (upstream, spot, id) => {
      if (cursors.advance(upstream, spot, id)) committer.requestFlush();
    },
    cursor: (upstream, spot) => {
      knownUpstream(upstream);
      return cursors.get(upstream, spot);
    },
    onAppended: (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    listEvents: (query): ListedEvent[] =>
      log.list(query).map((e) => ({
        id: e.id,
        spot: e.spot,
        resource: e.resource,
        action: e.action,
        data: e.data,
        timeReceived: e.timeReceived,
        forwarded: Object.fromEntries(upstreams.map((u) => [u, e.id <= cursors.get(u, e.spot)])),
      })),
    status: (): StoreStatus => {
      const oldest = committer.isClosed ? null : oldestUnforwardedTime();
      const perUpstream: StoreStatus['perUpstream'] = {};
      for (const u of upstreams) {
        const pending = committer.isClosed ? new Set<string>() : backlog.spots(u);
        perUpstream[u] = { pending: pending.size === 0 ? 0 : backlog.pendingCount(u, recountPending), spotsPending: pending.size };
      }
      return {
        events: log.count,
        bytes: conn.diskBytes(),
        maxBytes: budget.maxBytes,
        policy,
        oldestUnforwardedAgeMs: oldest === null ? null : Math.max(0, now() - oldest),
        dropped: committer.dropped,
        lastDropAtMs: committer.lastDropAt,
        refusing: committer.refusing,
        duplicates: log.duplicatesTotal,
        rejected: rejected.count(),
        commits: committer.commits,
        walSync: committer.syncTimes.snapshot(),
        lastError: committer.lastError,
        perUpstream,
      };
    },
    flush: async () => committer.flush(),
    forgetSilentSpots: (silentSince) => (committer.isClosed ? { scanned: 0, forgotten: [] } : forgetter.step(silentSince)),
    commands,
    spots,
    rejected,
    quarantine,
    close: async () => committer.close(),
  };
}
