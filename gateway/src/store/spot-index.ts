// Which events belong to which spot, for per-spot reads: recent ids in memory, older ones in
// the event_spots table, written in one sorted batch about once a second (docs/storage.md).
import type { Connection } from './connection.js';

/** The memory tier is written to event_spots about this often... */
export const INDEX_FLUSH_MS = 1000;
/** ...and as soon as it holds this many ids (bounds its memory). */
export const INDEX_FLUSH_IDS = 20_000;

/** What one flush wrote; applied to memory only after its COMMIT. */
export interface IndexFlush {
  upto: number;
  written: number;
  /** No row below this is left (0: the flush cleaned nothing). */
  cleanedBelow: number;
}

/** First position in the ascending `ids` whose id is above `afterId`. */
function firstAbove(ids: readonly number[], afterId: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= afterId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Invariant: every stored event with id <= `upto` has its (spot, id) row in event_spots, and
 * every stored event above it is in `recent`. Rows of event_spots whose event was pruned or
 * dropped from the old end of the log (below the lowest stored id) are removed at the next
 * flush; readers join with `events` or bound their reads by the lowest id, so they never see them.
 */
export class SpotIndex {
  upto = 0;
  /** Ids above `upto` per spot, ascending. */
  private readonly recent = new Map<string, number[]>();
  private recentCount = 0;
  private lastFlushAt = -Infinity;
  /**
   * The highest id committed at the previous flush: a flush writes only ids at or below it, ids
   * that stayed a whole interval. With buffer.retain 0 a forwarder that keeps up has them pruned
   * by then, so event_spots is hardly written at all; during an outage it holds the backlog, and
   * with retain every retained event.
   */
  private markId = 0;
  /**
   * No row of event_spots is below this (the lowest stored id at the last clean-up). Until the
   * lowest stored id moves past it there is nothing to clean: during an outage, when every spot
   * holds events, a flush does not visit each of them.
   */
  private cleanedBelow = 0;

  constructor(
    private readonly conn: Connection,
    private readonly flushMs = INDEX_FLUSH_MS,
    /** Monotonic milliseconds (the same clock the committer passes to flushDue and flush). */
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Rebuilds the memory tier from the file (at open and after a reopen): at most about a second of events. */
  load(): void {
    this.recent.clear();
    this.recentCount = 0;
    this.markId = 0;
    this.cleanedBelow = 0;
    const row = this.conn.stmt("SELECT value FROM meta WHERE key = 'spot_index_upto'").get() as { value: string } | undefined;
    this.upto = row ? Number(row.value) : 0;
    const rows = this.conn.stmt('SELECT id, spot FROM events WHERE id > ? ORDER BY id').raw().iterate(this.upto) as Iterable<[number, string]>;
    for (const [id, spot] of rows) {
      this.added(spot, id);
      // Ids found at open waited long enough: the first flush writes them.
      this.markId = id;
    }
    // The first flush comes an interval after opening, not in the first commit (it would write nothing new).
    this.lastFlushAt = this.clock();
  }

  /** A committed event (ids arrive in increasing order). */
  added(spot: string, id: number): void {
    let ids = this.recent.get(spot);
    if (!ids) this.recent.set(spot, (ids = []));
    ids.push(id);
    this.recentCount++;
  }

  /** Events below `lowestId` are gone (pruned or dropped from the old end): forgotten here too. */
  goneBelow(lowestId: number): void {
    if (this.recentCount === 0) return;
    for (const [spot, ids] of this.recent) {
      if (ids.length === 0 || ids[0]! >= lowestId) continue;
      const keep = firstAbove(ids, lowestId - 1);
      this.recentCount -= keep;
      if (keep === ids.length) this.recent.delete(spot);
      else ids.splice(0, keep);
    }
  }

  flushDue(clock: number): boolean {
    return this.recentCount >= INDEX_FLUSH_IDS || (this.recentCount > 0 && clock - this.lastFlushAt >= this.flushMs);
  }

  /** How far the next flush writes: the ids that waited an interval, or everything when memory is full. */
  private flushUpTo(highestId: number): number {
    return this.recentCount >= INDEX_FLUSH_IDS || this.flushMs === 0 ? highestId : Math.max(this.upto, this.markId);
  }

  /**
   * Inside the caller's transaction, before it inserts (`highestId`: the highest id committed
   * before it): writes the memory tier up to flushUpTo(), spot by spot so each spot's index page
   * is written once, and moves `upto` there. Also removes rows below `lowestId` (events gone).
   */
  flush(highestId: number, lowestId: number, clock: number): IndexFlush {
    this.lastFlushAt = clock;
    const upto = this.flushUpTo(highestId);
    this.markId = highestId;
    const insert = this.conn.stmt('INSERT OR IGNORE INTO event_spots (spot, id) VALUES (?, ?)');
    const clean = this.conn.stmt('DELETE FROM event_spots WHERE spot = ? AND id < ?');
    let written = 0;
    const spots = [...this.recent.keys()].sort();
    for (const spot of spots) {
      for (const id of this.recent.get(spot)!) {
        if (id > upto) break;
        insert.run(spot, id);
        written++;
      }
    }
    // Rows below lowestId only appear when events were pruned or dropped, which moves lowestId.
    const cleaning = lowestId > this.cleanedBelow;
    if (cleaning) for (const spot of this.persistedSpots()) clean.run(spot, lowestId);
    this.conn
      .stmt("INSERT INTO meta (key, value) VALUES ('spot_index_upto', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(String(upto));
    return { upto, written, cleanedBelow: cleaning ? lowestId : 0 };
  }

  /** After the flush's COMMIT: the ids it wrote leave the memory tier. */
  applyFlush(f: IndexFlush): void {
    this.upto = Math.max(this.upto, f.upto);
    this.cleanedBelow = Math.max(this.cleanedBelow, f.cleanedBelow);
    for (const [spot, ids] of this.recent) {
      const cut = firstAbove(ids, f.upto);
      this.recentCount -= cut;
      if (cut === ids.length) this.recent.delete(spot);
      else if (cut > 0) ids.splice(0, cut);
    }
  }

  /** Up to `limit` ids of the spot in the memory tier with afterId < id <= upTo. */
  recentAfter(spot: string, afterId: number, upTo: number, limit: number): number[] {
    const ids = this.recent.get(spot);
    if (!ids) return [];
    const out: number[] = [];
    for (let i = firstAbove(ids, afterId); i < ids.length && out.length < limit && ids[i]! <= upTo; i++) out.push(ids[i]!);
    return out;
  }

  /** Ids of the spot in the memory tier with afterId < id <= upTo. */
  recentCountBetween(spot: string, afterId: number, upTo: number): number {
    const ids = this.recent.get(spot);
    return ids && upTo > afterId ? Math.max(0, firstAbove(ids, upTo) - firstAbove(ids, afterId)) : 0;
  }

  /** Ids of the spot in the memory tier above `afterId`. */
  recentCountAfter(spot: string, afterId: number): number {
    const ids = this.recent.get(spot);
    return ids ? ids.length - firstAbove(ids, afterId) : 0;
  }

  /** Newest id per spot in the memory tier. */
  recentLast(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [spot, ids] of this.recent) if (ids.length > 0) out.set(spot, ids[ids.length - 1]!);
    return out;
  }

  get recentTotal(): number {
    return this.recentCount;
  }

  /** Spots with rows in event_spots (one index seek per spot, not a scan). */
  private persistedSpots(): string[] {
    const out: string[] = [];
    const next = this.conn.stmt('SELECT spot FROM event_spots WHERE spot > ? ORDER BY spot LIMIT 1').pluck();
    for (let spot = next.get('') as string | undefined; spot !== undefined; spot = next.get(spot) as string | undefined) out.push(spot);
    return out;
  }
}
