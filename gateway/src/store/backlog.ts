// Spots with a backlog (events above some upstream's cursor) and the events pending per upstream,
// kept as events are appended and dropped and cursors advance: pruning and the forwarder's resync
// cost O(spots with a backlog) and status O(1), not O(every spot ever seen) (docs/storage.md,
// "Cost per spot").
import type { CursorBook } from './cursors.js';

export class Backlog {
  /** Per upstream, the spots with events above its cursor. */
  private readonly byUpstream = new Map<string, Set<string>>();
  /**
   * Spots with events above some upstream's cursor, each with the first id appended since it was
   * last caught up everywhere (0 when not known: after a load). Below that it needs nothing.
   */
  private readonly needs = new Map<string, number>();
  /** The spot with the lowest keepFrom and that id; null when it must be searched again. */
  private lowest: { spot: string; from: number } | null = null;
  /**
   * Per upstream, the stored events above their spot's cursor, kept as events are stored, dropped
   * and cursors move; null when they must be counted again (after a load).
   */
  private pendingEvents: Map<string, number> | null = null;

  constructor(
    private readonly cursors: CursorBook,
    private readonly lastIdOf: (spot: string) => number,
    /** The spot has nothing above any cursor: its newest id need not be kept (event-log.ts). */
    private readonly caughtUp: (spot: string) => void = () => {},
    /** Stored events of the spot with afterId < id <= upTo. */
    private readonly countBetween: (spot: string, afterId: number, upTo: number) => number = () => 0,
  ) {
    for (const u of cursors.upstreams) this.byUpstream.set(u, new Set());
  }

  /** After the in-memory view was loaded: every spot is looked at once. */
  rebuild(spots: Iterable<string>): void {
    for (const set of this.byUpstream.values()) set.clear();
    this.needs.clear();
    this.lowest = null;
    this.pendingEvents = null;
    for (const spot of spots) this.update(spot, 0);
  }

  /** A commit stored `n` events: each is above every cursor. */
  stored(n: number): void {
    if (this.pendingEvents) for (const [u, count] of this.pendingEvents) this.pendingEvents.set(u, count + n);
  }

  /** Events were deleted from the old end whatever their cursors: those above a cursor leave that upstream's count. */
  dropped(events: readonly { id: number; spot: string }[]): void {
    if (!this.pendingEvents) return;
    for (const [u, count] of this.pendingEvents) {
      let gone = 0;
      for (const e of events) if (e.id > this.cursors.get(u, e.spot)) gone++;
      this.pendingEvents.set(u, count - gone);
    }
  }

  /** Stored events above their spot's cursor for this upstream: `recount` (O(spots with a backlog)) only after a load. */
  pendingCount(upstream: string, recount: (upstream: string) => number): number {
    if (this.pendingEvents === null) this.pendingEvents = new Map([...this.byUpstream.keys()].map((u) => [u, recount(u)]));
    return this.pendingEvents.get(upstream) ?? 0;
  }

  /** Events were committed for `spot`, the first of them `firstId`. */
  appended(spot: string, firstId: number): void {
    this.update(spot, firstId);
  }

  /** A cursor of `spot` moved from `from` to `to`: the events between are no longer pending for that upstream. */
  advanced(upstream: string, spot: string, from: number, to: number): void {
    const count = this.pendingEvents?.get(upstream);
    if (count !== undefined) this.pendingEvents!.set(upstream, count - this.countBetween(spot, from, Math.min(to, this.lastIdOf(spot))));
    this.update(spot, 0);
  }

  private update(spot: string, firstId: number): void {
    if (this.byUpstream.size === 0) {
      this.caughtUp(spot);
      return;
    }
    const lastId = this.lastIdOf(spot);
    let pendingSomewhere = false;
    for (const [u, set] of this.byUpstream) {
      if (lastId > this.cursors.get(u, spot)) {
        set.add(spot);
        pendingSomewhere = true;
      } else {
        set.delete(spot);
      }
    }
    if (!pendingSomewhere) {
      if (this.needs.delete(spot) && this.lowest?.spot === spot) this.lowest = null;
      this.caughtUp(spot);
      return;
    }
    if (!this.needs.has(spot)) this.needs.set(spot, firstId);
    if (this.lowest === null) return;
    // A spot's keepFrom only rises while it has a backlog: only the lowest one rising needs a search.
    if (this.lowest.spot === spot) this.lowest = null;
    else {
      const from = this.keepFromOf(spot);
      if (from < this.lowest.from) this.lowest = { spot, from };
    }
  }

  /** The lowest id the spot may still need. */
  private keepFromOf(spot: string): number {
    return Math.max(this.cursors.minFor(spot) + 1, this.needs.get(spot) ?? 0);
  }

  /**
   * The lowest id some spot may still need: every event below it is forwarded everywhere.
   * `highestId + 1` when no spot has a backlog. Searches the spots with a backlog only when the
   * lowest of them moved.
   */
  keepFrom(highestId: number): number {
    if (this.needs.size === 0) return highestId + 1;
    if (this.lowest === null) {
      let best: { spot: string; from: number } | null = null;
      for (const spot of this.needs.keys()) {
        const from = this.keepFromOf(spot);
        if (best === null || from < best.from) best = { spot, from };
      }
      this.lowest = best;
    }
    return this.lowest!.from;
  }

  /** Some spot has events above some upstream's cursor. */
  get lagging(): boolean {
    return this.needs.size > 0;
  }

  has(spot: string): boolean {
    return this.needs.has(spot);
  }

  /** Spots with events above this upstream's cursor (empty for an unknown upstream). */
  spots(upstream: string): ReadonlySet<string> {
    return this.byUpstream.get(upstream) ?? new Set();
  }
}
