// Retention: events forwarded to every upstream, once retained for buffer.retain, are pruned in
// small passes inside the group commit, paced so that they never cost more than the inserts
// (docs/storage.md, "Pruning and space").
import type { Backlog } from './backlog.js';
import type { CursorBook } from './cursors.js';
import type { EventLog } from './event-log.js';
import type { RetentionMarks } from './retention-marks.js';

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

/** What a pass deleted; applied to the in-memory view only after COMMIT. */
export interface PruneResult {
  deleted: number;
  /** Spots pruned up to their common cursor. */
  done: Map<string, number>;
  /** Every event below this id is gone (0: not known). */
  goneBelow: number;
  /** Spots whose next forwarded event is above the retention bound: that id. */
  waiting: Map<string, number>;
}

export interface RetentionParts {
  log: EventLog;
  cursors: CursorBook;
  backlog: Backlog;
  /** How far retention may prune (buffer.retain). */
  marks: RetentionMarks;
  /** Monotonic milliseconds: pruning is paced, not scheduled. */
  clock: () => number;
}

export class Retention {
  /** Spots whose cursors moved since their forwarded events were last pruned (per-spot pass). */
  private readonly unpruned = new Set<string>();
  /** Spots whose next forwarded event is above the retention bound, with that id: no query until the bound reaches it. */
  private readonly waiting = new Map<string, number>();
  /** The retention bound when `waiting` was last looked at. */
  private releasedAt = 0;
  /** Every event below this id is gone (as of the last committed prune pass; 0 = not known). */
  private goneBelow = 0;
  private lastPassAt = -Infinity;
  private lastPerSpotPruneAt = -Infinity;

  constructor(private readonly p: RetentionParts) {}

  /** A cursor of the spot moved: its forwarded events may be pruned on their own while another spot lags. */
  cursorMoved(spot: string): void {
    // A waiting spot's first prunable event stays the one it waits for.
    if (!this.waiting.has(spot)) this.unpruned.add(spot);
  }

  /** The spot was forgotten (forget.ts): nothing of it is left to prune. */
  forget(spot: string): void {
    this.unpruned.delete(spot);
    this.waiting.delete(spot);
  }

  /** The file was rebuilt: what was pruned from the old one says nothing about the new one. */
  forgetPruned(): void {
    this.goneBelow = 0;
    this.waiting.clear();
    this.p.marks.rebuilt();
  }

  /** The marks: how far retention may prune, and from when the history is complete. */
  get marks(): RetentionMarks {
    return this.p.marks;
  }

  /** The lowest id some spot may still need, and whether any spot lags (backlog.ts: no pass over every spot). */
  private keepFrom(): { from: number; lagging: boolean } {
    return { from: this.p.backlog.keepFrom(this.p.log.highestId), lagging: this.p.backlog.lagging };
  }

  hasWork(): boolean {
    if (this.p.cursors.upstreams.length === 0 || this.p.log.count === 0) return false;
    const bound = this.p.marks.bound();
    if (bound === null) return false;
    const keep = this.keepFrom();
    if (this.goneBelow < Math.min(keep.from, bound.upto + 1)) return true;
    if (!keep.lagging || this.p.clock() - this.lastPerSpotPruneAt < PER_SPOT_PRUNE_INTERVAL_MS) return false;
    return this.unpruned.size > 0 || (this.waiting.size > 0 && bound.upto > this.releasedAt);
  }

  /** Inside the caller's transaction: a pass when the last one was PRUNE_INTERVAL_MS ago (or `now`). */
  passIfDue(now: boolean): PruneResult | null {
    const at = this.p.clock();
    if (!now && at - this.lastPassAt < PRUNE_INTERVAL_MS) return null;
    this.lastPassAt = at;
    return this.pruneStep(PRUNE_PASS_LIMIT, at);
  }

  /**
   * Inside the caller's transaction: at most `limit` events at or below every upstream's cursor.
   * One range DELETE below the lowest id any spot still needs; while a spot lags (holding that id
   * back), every PER_SPOT_PRUNE_INTERVAL_MS also one DELETE per spot whose cursor moved (at most
   * PER_SPOT_PRUNE_SPOTS of them per pass).
   */
  private pruneStep(limit: number, clock: number): PruneResult {
    const result: PruneResult = { deleted: 0, done: new Map(), goneBelow: 0, waiting: new Map() };
    if (this.p.cursors.upstreams.length === 0) return result;
    // Nothing was committed `retain` ago yet: nothing is old enough.
    const bound = this.p.marks.bound();
    if (bound === null) return result;
    const keep = this.keepFrom();
    const lowest = this.p.log.lowestId() ?? keep.from;
    const to = Math.min(keep.from, bound.upto + 1, lowest + limit);
    if (lowest < to) result.deleted += this.p.log.pruneBelow(to);
    result.goneBelow = Math.max(lowest, to);
    if (result.deleted > 0) this.p.marks.moveHistory(bound.at);
    if (!keep.lagging || clock - this.lastPerSpotPruneAt < PER_SPOT_PRUNE_INTERVAL_MS) return result;
    this.lastPerSpotPruneAt = clock;
    this.release(bound.upto, result.goneBelow);
    let deletes = 0;
    let visited = 0;
    const before = result.deleted;
    for (const spot of this.unpruned) {
      const remaining = limit - result.deleted;
      if (remaining <= 0 || deletes >= PER_SPOT_PRUNE_SPOTS || visited++ >= PER_SPOT_PRUNE_VISITS) break;
      const cursor = this.p.cursors.minFor(spot);
      // The range DELETE took everything below goneBelow (goneBelow >= to): nothing to do, no query.
      if (Math.min(cursor, bound.upto) < result.goneBelow) {
        if (cursor <= bound.upto) result.done.set(spot, cursor);
        else result.waiting.set(spot, Math.max(result.goneBelow, bound.upto + 1));
        continue;
      }
      deletes++;
      const { deleted, next } = this.p.log.prune(spot, to, cursor, remaining, bound.upto);
      result.deleted += deleted;
      if (next !== null) result.waiting.set(spot, next);
      // Events of the memory tier are not pruned here (spot-index.ts): done once event_spots holds them all.
      else if (deleted < remaining && cursor <= this.p.log.index.upto) result.done.set(spot, cursor);
    }
    if (result.deleted > before) this.p.marks.moveHistory(bound.at);
    return result;
  }

  /** Waiting spots whose next forwarded event the bound reached (or the range pass took) are pruned again. */
  private release(bound: number, goneBelow: number): void {
    if (this.waiting.size === 0 || bound <= this.releasedAt) return;
    this.releasedAt = bound;
    for (const [spot, next] of this.waiting) {
      if (next > bound && next >= goneBelow) continue;
      this.waiting.delete(spot);
      this.unpruned.add(spot);
    }
  }

  /** After COMMIT: the pass's deletes are real. */
  applyPruned(p: PruneResult): void {
    const { log, cursors, backlog } = this.p;
    log.removed(p.deleted);
    // A spot whose cursor moved again since the pass stays (minFor above what was pruned).
    for (const [spot, upTo] of p.done) if (cursors.minFor(spot) <= upTo) this.unpruned.delete(spot);
    for (const [spot, next] of p.waiting) {
      this.unpruned.delete(spot);
      this.waiting.set(spot, next);
    }
    if (p.goneBelow > this.goneBelow) this.goneBelow = p.goneBelow;
    // Nothing lags and everything below the highest id is gone: no spot has anything left to prune.
    if (!backlog.lagging && this.goneBelow > log.highestId) {
      this.unpruned.clear();
      this.waiting.clear();
    }
    log.index.goneBelow(p.goneBelow);
  }
}
