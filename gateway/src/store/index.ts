// openStore: the durable buffer (events log, cursors, commands, registry, rejected) on one SQLite file.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CommandTable } from './command-queue.js';
import { Backlog } from './backlog.js';
import { ForwardedCutter } from './cap-forwarded.js';
import type { Connection } from './connection.js';
import { CursorBook } from './cursors.js';
import { EventLog } from './event-log.js';
import { SpotForgetter } from './forget.js';
import { ForwardGate, prepareForwarding } from './forward-gate.js';
import { GroupCommitter } from './group-commit.js';
import { type AppendedListener, HandOver } from './hand-over.js';
import { openDatabase } from './open-database.js';
import { storedNumbering } from './numbering.js';
import { QuarantineTable } from './quarantine.js';
import { Recovery } from './recovery.js';
import { RejectedMessages } from './rejected-log.js';
import { Retention } from './retention.js';
import { RetentionMarks } from './retention-marks.js';
import { SideWrites } from './side-writes.js';
import { SizeCap } from './size-cap.js';
import { budgetFor, pragmasFor, type SpaceBudget, SpaceKeeper } from './space.js';
import { SpotTable } from './spot-registry.js';
import { newestOfSpot } from './spot-history.js';
import { StoreReport } from './status.js';
import { StoreUnavailableError, type Durability, type ListedEvent, type OverflowPolicy, type Store, type StoreLogger, type StoreOptions } from './types.js';

export * from './types.js';
export { DB_FILE } from './open-database.js';

export const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_COMMIT_INTERVAL_MS = 5;
/** Below this the empty schema and the WAL reserve leave no room for events. */
export const MIN_MAX_BYTES = 256 * 1024;

const silentLogger: StoreLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** The options with their defaults filled in, checked. */
interface Settings {
  dataDir: string;
  logger: StoreLogger;
  now: () => number;
  upstreams: string[];
  policy: OverflowPolicy;
  budget: SpaceBudget;
  durability: Durability;
  commitIntervalMs: number;
  forwardAfterCommit: boolean;
  /** Events go upstream before the disk has them (forward-gate.ts). */
  aheadOfDisk: boolean;
  indexFlushMs: number | undefined;
  retainMs: number;
  randomUUID: () => string;
  /** Monotonic: the commit window, the pacing of pruning and side work, the index flush, fsync timings. */
  clock: () => number;
}

function settingsOf(opts: StoreOptions): Settings {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!(maxBytes >= MIN_MAX_BYTES)) {
    throw new RangeError(`store: buffer size cap ${maxBytes} bytes is below the minimum of 256 KiB (buffer.max_mb >= 0.25)`);
  }
  const commitIntervalMs = opts.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
  if (!(commitIntervalMs >= 0)) throw new RangeError(`store: commitIntervalMs must be >= 0, got ${commitIntervalMs}`);
  const retainMs = opts.retainMs ?? 0;
  if (!(retainMs >= 0 && Number.isSafeInteger(retainMs))) throw new RangeError(`store: retainMs must be a whole number of ms >= 0, got ${retainMs}`);
  const durability = opts.durability ?? 'full';
  const forwardAfterCommit = opts.forwardAfterCommit ?? false;
  return {
    dataDir: opts.dataDir,
    logger: opts.logger ?? silentLogger,
    now: opts.now ?? Date.now,
    upstreams: [...new Set(opts.upstreams ?? [])],
    policy: opts.policy ?? 'drop-oldest',
    budget: budgetFor(maxBytes),
    durability,
    commitIntervalMs,
    forwardAfterCommit,
    // Without the store's own fsync (durability normal/off) events go upstream before the disk has them anyway.
    aheadOfDisk: forwardAfterCommit || durability !== 'full',
    indexFlushMs: opts.indexFlushMs,
    retainMs,
    randomUUID: opts.randomUUID ?? randomUUID,
    clock: () => performance.now(),
  };
}

/** Loading reads each table (the events one through its index): damage found here moves the file aside. */
function loadTables(c: Connection, s: Settings, requestFlush: () => void) {
  const skipped = prepareForwarding(c, s.aheadOfDisk);
  if (skipped > 0) {
    s.logger.warn(
      { db: c.path, skipped },
      `store: the gateway stopped uncleanly while forwarding ahead of the disk; event ids continue ${skipped} higher, so none forwarded before is reused`,
    );
  }
  const log = new EventLog(c, s.indexFlushMs, s.clock);
  log.load();
  const cursors = new CursorBook(s.upstreams);
  cursors.load(c);
  const spots = new SpotTable(c, s.now, requestFlush);
  spots.load();
  const rejected = new RejectedMessages(c, requestFlush);
  rejected.load();
  c.stmt('SELECT count(*) FROM commands').get();
  return { log, cursors, spots, rejected };
}

/** Calls every listener; one that throws is logged and does not keep the others from their turn. */
function fanOut(listeners: ReadonlySet<AppendedListener>, logger: StoreLogger): AppendedListener {
  return (spot, lastId, events) => {
    for (const cb of listeners) {
      try {
        cb(spot, lastId, events);
      } catch (err) {
        logger.error({ spot, reason: String(err) }, 'store: an onAppended listener threw');
      }
    }
  };
}

/** The backlog and pruning follow appends, drops, loads and cursor moves. */
function followChanges(log: EventLog, cursors: CursorBook, backlog: Backlog, retention: Retention): void {
  /** After a load: every spot with stored events may hold forwarded ones to prune, and the backlog is read again. */
  const reloaded = (loadedSpots: Iterable<string>): void => {
    const all = [...loadedSpots];
    for (const spot of all) retention.cursorMoved(spot);
    backlog.rebuild(all);
  };
  reloaded(log.lastIdBySpot.keys());
  log.observe({
    appended: (spot, firstId) => backlog.appended(spot, firstId),
    stored: (n) => backlog.stored(n),
    dropped: (events) => backlog.dropped(events),
    loaded: reloaded,
  });
  cursors.observe((upstream, spot, from, to) => {
    backlog.advanced(upstream, spot, from, to);
    retention.cursorMoved(spot);
  });
}

export function openStore(opts: StoreOptions): Store {
  const s = settingsOf(opts);
  const { logger, now, clock, upstreams, budget, policy } = s;
  // Loading may queue side work (registry, rejected) before the committer that writes it exists.
  let committer: GroupCommitter | null = null;
  const requestFlush = (): void => committer?.requestFlush();
  const { conn, instanceId, movedAside, loaded } = openDatabase(
    { dataDir: s.dataDir, settings: pragmasFor(budget, s.durability), logger, now, randomUUID: s.randomUUID },
    (c) => loadTables(c, s, requestFlush),
  );
  const { log, cursors, spots, rejected } = loaded;

  // A spot with nothing above any cursor (or with no upstream) needs no newest id in memory: O(spots with a backlog).
  const backlog = new Backlog(
    cursors,
    (spot) => log.lastIdBySpot.get(spot) ?? 0,
    (spot) => log.forget(spot),
    (spot, afterId, upTo) => log.countBetween(spot, afterId, upTo),
  );
  const marks = new RetentionMarks(conn, s.retainMs, now);
  conn.raw.transaction(() => marks.load(log.highestId))();
  const retention = new Retention({ log, cursors, backlog, marks, clock });
  followChanges(log, cursors, backlog, retention);

  const listeners = new Set<AppendedListener>();
  const handOver = new HandOver(log, fanOut(listeners, logger));
  const cutter = new ForwardedCutter({ conn, log, cursors, backlog, marks });
  const cap = new SizeCap({ conn, log, cursors, budget, cutter, policy, logger, now, requestFlush });
  const recovery = new Recovery({ conn, instanceId, log, cursors, spots, rejected, retention, cap, handOver, aheadOfDisk: s.aheadOfDisk, logger, now });
  const writer = new GroupCommitter({
    conn,
    log,
    sideWrites: new SideWrites(conn, cursors, spots, rejected),
    retention,
    cap,
    space: new SpaceKeeper(conn, budget),
    recovery,
    handOver,
    gate: new ForwardGate(s.forwardAfterCommit, log.highestId, s.aheadOfDisk),
    logger,
    clock,
    commitIntervalMs: s.commitIntervalMs,
  });
  committer = writer;
  const durably = <T>(write: () => T): T => writer.durably(write);
  const forgetter = new SpotForgetter({ conn, log, cursors, backlog, retention, spots, durably });
  const commands = new CommandTable(conn, (write, synced) => writer.commitNow(write, synced), now);
  const quarantine = new QuarantineTable(conn, log, cursors, durably, now);
  const report = new StoreReport({ conn, upstreams, log, cursors, backlog, cap, marks, committer: writer, recovery, rejected, now });

  logger.info(
    { db: conn.path, instanceId, events: log.count, upstreams, policy, maxBytes: budget.maxBytes, movedAside },
    `store: opened ${conn.path} with ${log.count} events`,
  );

  return {
    instanceId,
    dbPath: conn.path,
    upstreams,
    append: (events) => writer.append(events),
    appendWith: (events, done) => writer.appendWith(events, done),
    pendingSpots: (upstream) => report.pendingSpots(upstream),
    readSpot: (upstream, spot, afterId, limit) => {
      report.knownUpstream(upstream);
      return log.readSpot(spot, afterId, limit);
    },
    advanceCursor: (upstream, spot, id) => {
      if (cursors.advance(upstream, spot, id)) writer.requestFlush();
    },
    cursor: (upstream, spot) => {
      report.knownUpstream(upstream);
      return cursors.get(upstream, spot);
    },
    onAppended: (cb) => {
      listeners.add(cb);
      return () => void listeners.delete(cb);
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
    newestEvents: (spot, limit) => newestOfSpot(conn, log.index, spot, limit),
    status: () => report.status(),
    flush: async () => writer.flush(),
    numberingOf: (spot) => storedNumbering(conn, spot),
    forgetSilentSpots: (silentSince) => (writer.isClosed ? { scanned: 0, forgotten: [] } : forgetter.step(silentSince)),
    commands,
    spots,
    rejected,
    quarantine,
    backup: async (file) => {
      if (writer.isClosed) throw new StoreUnavailableError('store closed', 'closed', 1);
      await conn.raw.backup(file);
    },
    close: async () => writer.close(),
  };
}
