// Spots with a backlog (events above some upstream's cursor), kept as events are appended and
// cursors advance: status, pruning and the forwarder's resync cost O(spots with a backlog), not
// O(every spot ever seen) (docs/storage.md, "Cost per spot").
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

  constructor(
    private readonly cursors: CursorBook,
    private readonly lastIdOf: (spot: string) => number,
    /** The spot has nothing above any cursor: its newest id need not be kept (event-log.ts). */
    private readonly caughtUp: (spot: string) => void = () => {},
  ) {
    for (const u of cursors.upstreams) this.byUpstream.set(u, new Set());
  }

  /** After the in-memory view was loaded: every spot is looked at once. */
  rebuild(spots: Iterable<string>): void {
    for (const set of this.byUpstream.values()) set.clear();
    this.needs.clear();
    this.lowest = null;
    for (const spot of spots) this.update(spot, 0);
  }

  /** Events were committed for `spot`, the first of them `firstId`. */
  appended(spot: string, firstId: number): void {
    this.update(spot, firstId);
  }

  /** A cursor of `spot` moved. */
  advanced(spot: string): void {
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
