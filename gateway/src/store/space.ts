// Disk budget: the size cap with its overflow policy, pruning below the cursors, vacuum and checkpoints.
import type { Connection, PragmaSettings } from './connection.js';
import type { Backlog } from './backlog.js';
import type { CursorBook } from './cursors.js';
import type { DropResult, EventLog } from './event-log.js';
import type { Durability, OverflowPolicy } from './types.js';

const PAGE = 4096;
export const DROP_BATCH = 500;
/** Pruning runs at most this often inside the group commit (small passes: no long stalls). */
export const PRUNE_INTERVAL_MS = 50;
/** Events deleted at most per pass (a few ms; 100k events/s at most). */
export const PRUNE_PASS_LIMIT = 5000;
/**
 * Spots are pruned one by one (one DELETE per spot) only while some spot lags behind the
 * others, and at most this often; otherwise one range DELETE below the lowest unforwarded id.
 */
export const PER_SPOT_PRUNE_INTERVAL_MS = 1000;
/** Spots pruned per per-spot pass (a DELETE each at most); the others wait for the next pass. */
export const PER_SPOT_PRUNE_SPOTS = 1000;
/** Spots looked at per pass, most of them without a query (the range DELETE already took their events). */
const PER_SPOT_PRUNE_VISITS = 20_000;
/** Exact page counts are asked again after this long, or when the estimate nears the cap. */
const USAGE_RECHECK_MS = 1000;
const USAGE_RECHECK_SHARE = 0.9;
const VACUUM_STEP_PAGES = 256;
const VACUUM_MIN_FREE_PAGES = 64;
/** Under load, free pages are given back only when they are over 1/4 of the file. */
const VACUUM_SHARE_UNDER_LOAD = 4;
/** Row header, rowid, index entry: what an event costs beyond its data. */
const ROW_OVERHEAD = 48;

export interface SpaceBudget {
  maxBytes: number;
  walReserve: number;
  /** Budget for pages holding data. */
  liveBudget: number;
}

export function budgetFor(maxBytes: number): SpaceBudget {
  const walReserve = Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(maxBytes / 8)));
  return { maxBytes, walReserve, liveBudget: maxBytes - walReserve };
}

export function pragmasFor(budget: SpaceBudget, durability: Durability): PragmaSettings {
  return {
    durability,
    walAutocheckpointPages: Math.min(1000, Math.max(16, Math.floor(budget.walReserve / 2 / PAGE))),
    journalSizeLimit: budget.walReserve,
  };
}

export function estimateBytes(events: { spot: string; resource: string; action: string; data: string; pb: Uint8Array | null }[]): number {
  let n = 0;
  for (const e of events) {
    n += ROW_OVERHEAD + 2 * e.spot.length + e.resource.length + e.action.length + e.data.length + (e.pb ? e.pb.byteLength : 0);
  }
  return n;
}

export interface PruneResult {
  deleted: number;
  /** Spots pruned up to their common cursor. */
  done: Map<string, number>;
  /** Every event below this id is gone (0: not known). */
  goneBelow: number;
}

export class SpaceKeeper {
  /** Spots whose cursors moved since their forwarded events were last pruned (per-spot pass). */
  private readonly unpruned = new Set<string>();
  /** Every event below this id is gone (as of the last committed prune pass; 0 = not known). */
  private goneBelow = 0;
  private lastPerSpotPruneAt = -Infinity;
  private checkpointedSinceCommit = true;
  /** Live bytes as last counted plus what was added since (page counts cost two pragmas). */
  private usedEstimate: number | null = null;
  private usedCountedAt = 0;

  constructor(
    private readonly conn: Connection,
    private readonly log: EventLog,
    private readonly cursors: CursorBook,
    private readonly backlog: Backlog,
    readonly budget: SpaceBudget,
    readonly policy: OverflowPolicy,
  ) {}

  /**
   * Inside the caller's transaction, for the requests of a batch (their sizes in bytes, in order).
   * drop-oldest: deletes the oldest events until all fit; reject: how many of the first requests fit.
   */
  makeRoom(requestBytes: number[]): { accepted: number; drops: DropResult[] } {
    const drops: DropResult[] = [];
    const incoming = requestBytes.reduce((a, b) => a + b, 0);
    const clock = performance.now();
    if (
      this.usedEstimate !== null &&
      clock - this.usedCountedAt < USAGE_RECHECK_MS &&
      this.usedEstimate + incoming <= USAGE_RECHECK_SHARE * this.budget.liveBudget
    ) {
      this.usedEstimate += incoming;
      return { accepted: requestBytes.length, drops };
    }
    let used = this.conn.liveBytes();
    this.usedEstimate = used + incoming;
    this.usedCountedAt = clock;
    if (used + incoming <= this.budget.liveBudget) return { accepted: requestBytes.length, drops };
    if (this.policy === 'reject') {
      let accepted = 0;
      for (const bytes of requestBytes) {
        if (used + bytes > this.budget.liveBudget) break;
        used += bytes;
        accepted++;
      }
      return { accepted, drops };
    }
    while (used + incoming > this.budget.liveBudget) {
      const d = this.log.dropOldest(DROP_BATCH);
      if (d.count === 0) break;
      drops.push(d);
      used = this.conn.liveBytes();
    }
    this.usedEstimate = null;
    return { accepted: requestBytes.length, drops };
  }

  /** The lowest id some spot may still need, and whether any spot lags (backlog.ts: no pass over every spot). */
  private keepFrom(): { from: number; lagging: boolean } {
    return { from: this.backlog.keepFrom(this.log.highestId), lagging: this.backlog.lagging };
  }

  /** A cursor of the spot moved: its forwarded events may be pruned on their own while another spot lags. */
  cursorMoved(spot: string): void {
    this.unpruned.add(spot);
  }

  /** The spot was forgotten (forget.ts): nothing of it is left to prune. */
  forget(spot: string): void {
    this.unpruned.delete(spot);
  }

  hasPruneWork(): boolean {
    if (this.cursors.upstreams.length === 0 || this.log.count === 0) return false;
    const keep = this.keepFrom();
    if (this.goneBelow < keep.from) return true;
    return keep.lagging && this.unpruned.size > 0 && performance.now() - this.lastPerSpotPruneAt >= PER_SPOT_PRUNE_INTERVAL_MS;
  }

  /**
   * Inside the caller's transaction: at most `limit` events at or below every upstream's cursor.
   * One range DELETE below the lowest id any spot still needs; while a spot lags (holding that id
   * back), every PER_SPOT_PRUNE_INTERVAL_MS also one DELETE per spot whose cursor moved (at most
   * PER_SPOT_PRUNE_SPOTS of them per pass).
   */
  pruneStep(limit: number, clock = performance.now()): PruneResult {
    const result: PruneResult = { deleted: 0, done: new Map(), goneBelow: 0 };
    if (this.cursors.upstreams.length === 0) return result;
    const keep = this.keepFrom();
    const lowest = this.log.lowestId() ?? keep.from;
    const to = Math.min(keep.from, lowest + limit);
    if (lowest < to) result.deleted += this.log.pruneBelow(to);
    result.goneBelow = Math.max(lowest, to);
    if (!keep.lagging || clock - this.lastPerSpotPruneAt < PER_SPOT_PRUNE_INTERVAL_MS) return result;
    this.lastPerSpotPruneAt = clock;
    let deletes = 0;
    let visited = 0;
    for (const spot of this.unpruned) {
      const remaining = limit - result.deleted;
      if (remaining <= 0 || deletes >= PER_SPOT_PRUNE_SPOTS || visited++ >= PER_SPOT_PRUNE_VISITS) break;
      const upTo = this.cursors.minFor(spot);
      // The range DELETE took everything below goneBelow (goneBelow >= to): nothing to do, no query.
      if (upTo < result.goneBelow) {
        result.done.set(spot, upTo);
        continue;
      }
      deletes++;
      const n = this.log.prune(spot, to, upTo, remaining);
      result.deleted += n;
      // Events of the memory tier are not pruned here (spot-index.ts): done once event_spots holds them all.
      if (n < remaining && upTo <= this.log.index.upto) result.done.set(spot, upTo);
    }
    return result;
  }

  forgetPruned(): void {
    this.goneBelow = 0;
    this.usedEstimate = null;
  }

  applyPruned(p: PruneResult): void {
    // A spot whose cursor moved again since the pass stays (minFor above what was pruned).
    for (const [spot, upTo] of p.done) if (this.cursors.minFor(spot) <= upTo) this.unpruned.delete(spot);
    if (p.goneBelow > this.goneBelow) this.goneBelow = p.goneBelow;
    // Nothing lags and everything below the highest id is gone: no spot has anything left to prune.
    if (!this.backlog.lagging && this.goneBelow > this.log.highestId) this.unpruned.clear();
  }

  committed(): void {
    this.checkpointedSinceCommit = false;
  }

  /**
   * Outside transactions, on the maintenance timer: give free pages back, keep the WAL short.
   * Free pages are given back when the store is idle, or when they are over a quarter of the
   * file (a drained backlog). Under steady load the pages pruning frees are reused by the next
   * inserts: moving them to the end of the file first cost 3-8 ms every 100 ms for nothing.
   */
  tidy(idle: boolean): void {
    const free = this.conn.freePages();
    if (free > VACUUM_MIN_FREE_PAGES && (idle || free * VACUUM_SHARE_UNDER_LOAD > this.conn.pageCount())) {
      this.conn.raw.exec(`PRAGMA incremental_vacuum(${VACUUM_STEP_PAGES})`);
      this.checkpointedSinceCommit = false;
    }
    const wal = this.conn.walBytes();
    if (idle && !this.checkpointedSinceCommit) {
      this.conn.raw.pragma('wal_checkpoint(TRUNCATE)');
      this.checkpointedSinceCommit = true;
    } else if (wal > this.budget.walReserve / 2) {
      this.conn.raw.pragma('wal_checkpoint(PASSIVE)');
    }
  }
}
