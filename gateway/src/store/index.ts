// openStore: the durable buffer (events log, cursors, commands, registry, rejected) on one SQLite file.
import { randomUUID } from 'node:crypto';
import { CommandTable } from './command-queue.js';
import { CursorBook } from './cursors.js';
import { EventLog } from './event-log.js';
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
  const space = new SpaceKeeper(conn, log, cursors, budget, policy);
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
  const commands = new CommandTable(conn, (write) => committer.durably(write), now);
  const quarantine = new QuarantineTable(conn, log, cursors, (write) => committer.durably(write), now);

  function knownUpstream(upstream: string): void {
    if (!upstreams.includes(upstream)) {
      throw new Error(`store: unknown upstream "${upstream}" (configured: ${upstreams.join(', ') || 'none'})`);
    }
  }

  function pendingSpots(upstream: string): PendingSpot[] {
    knownUpstream(upstream);
    const out: PendingSpot[] = [];
    for (const [spot, lastId] of log.lastIdBySpot) {
      const cursor = cursors.get(upstream, spot);
      if (lastId > cursor) out.push({ spot, cursor, lastId });
    }
    return out;
  }

  function oldestUnforwardedTime(): number | null {
    if (upstreams.length === 0) return log.oldestTime();
    let oldest: number | null = null;
    for (const upstream of upstreams) {
      for (const p of pendingSpots(upstream)) {
        const t = log.firstTimeAfter(p.spot, p.cursor);
        if (t !== null && (oldest === null || t < oldest)) oldest = t;
      }
    }
    return oldest;
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
        const pending = committer.isClosed ? [] : pendingSpots(u);
        const lowest = pending.length > 0 ? log.lowestId() : null;
        perUpstream[u] = {
          pending: pending.reduce((n, p) => n + log.countAfter(p.spot, p.cursor, lowest), 0),
          spotsPending: pending.length,
        };
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
    commands,
    spots,
    rejected,
    quarantine,
    close: async () => committer.close(),
  };
}
