// At the size cap, retained forwarded events go first, oldest first, before any unforwarded one
// (docs/storage.md, "Size cap"): they were delivered, so they are neither counted as dropped nor logged.
import type { Backlog } from './backlog.js';
import type { Connection } from './connection.js';
import type { CursorBook } from './cursors.js';
import type { EventLog } from './event-log.js';
import type { RetentionMarks } from './retention-marks.js';

/** Rows deleted (below the lowest id still needed) or read (above it) per statement. */
const CUT_BATCH = 500;

/** What the cut did inside a transaction; applied after COMMIT. */
export interface ForwardedCut {
  count: number;
  /** Every event below this id is gone (0: the range below the lowest needed id was not touched). */
  goneBelow: number;
}

export interface ForwardedCutterParts {
  conn: Connection;
  log: EventLog;
  cursors: CursorBook;
  backlog: Backlog;
  marks: RetentionMarks;
}

export class ForwardedCutter {
  constructor(private readonly p: ForwardedCutterParts) {}

  /**
   * Inside the caller's transaction: deletes forwarded events, oldest first, until `fits()`:
   * the range below the lowest id any spot still needs, then (a spot lagging) forwarded events
   * above it found in id order, until `fitsWithSlack()` (the scan then comes again only after
   * that slack was inserted).
   */
  cut(fits: () => boolean, fitsWithSlack: () => boolean): ForwardedCut {
    const { log, cursors, backlog, marks } = this.p;
    const result: ForwardedCut = { count: 0, goneBelow: 0 };
    if (cursors.upstreams.length === 0) return result;
    const keepFrom = backlog.keepFrom(log.highestId);
    let newest = 0;
    while (!fits()) {
      const r = this.cutBelow(keepFrom);
      if (r.count === 0) break;
      result.count += r.count;
      result.goneBelow = r.lastId + 1;
      newest = Math.max(newest, r.newest);
    }
    if (backlog.lagging && !fits()) {
      const forwarded = (spot: string, id: number): boolean => id <= cursors.minFor(spot);
      for (let from = keepFrom; !fitsWithSlack(); ) {
        const r = this.cutForwarded(from, forwarded);
        if (r.scanned === 0) break;
        result.count += r.count;
        newest = Math.max(newest, r.newest);
        from = r.scanned + 1;
      }
    }
    if (newest > 0) marks.moveHistory(newest);
    return result;
  }

  /** The oldest events below `below` (forwarded everywhere), CUT_BATCH at most. */
  private cutBelow(below: number): { count: number; lastId: number; newest: number } {
    const { conn } = this.p;
    const r = conn
      .stmt('SELECT count(*) AS n, max(id) AS last, max(time_received) AS newest FROM (SELECT id, time_received FROM events WHERE id < ? ORDER BY id LIMIT ?)')
      .get(below, CUT_BATCH) as { n: number; last: number | null; newest: number | null };
    if (r.n === 0 || r.last === null) return { count: 0, lastId: 0, newest: 0 };
    const count = conn.stmt('DELETE FROM events WHERE id <= ?').run(r.last).changes;
    return { count, lastId: r.last, newest: r.newest ?? 0 };
  }

  /**
   * Of the CUT_BATCH events from `fromId` on (at or below the per-spot index's `upto`: the
   * memory tier is left alone), those `forwarded` says may go, from both tables.
   * `scanned`: the last id read (0: none left).
   */
  private cutForwarded(fromId: number, forwarded: (spot: string, id: number) => boolean): { count: number; scanned: number; newest: number } {
    const { conn, log } = this.p;
    const rows = conn
      .stmt('SELECT id, spot, time_received AS t FROM events WHERE id >= ? AND id <= ? ORDER BY id LIMIT ?')
      .all(fromId, log.index.upto, CUT_BATCH) as { id: number; spot: string; t: number }[];
    if (rows.length === 0) return { count: 0, scanned: 0, newest: 0 };
    const gone: number[] = [];
    const lastBySpot = new Map<string, number>();
    let newest = 0;
    for (const r of rows) {
      if (!forwarded(r.spot, r.id)) continue;
      gone.push(r.id);
      lastBySpot.set(r.spot, r.id);
      newest = Math.max(newest, r.t);
    }
    let count = 0;
    if (gone.length > 0) {
      count = conn.stmt('DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))').run(JSON.stringify(gone)).changes;
      // Every event of the spot up to that id is forwarded and gone (the older ones went before this scan's start).
      for (const [spot, id] of lastBySpot) conn.stmt('DELETE FROM event_spots WHERE spot = ? AND id <= ?').run(spot, id);
    }
    return { count, scanned: rows[rows.length - 1]!.id, newest };
  }

  /** After COMMIT: the cut events are gone. */
  applyCut(cut: ForwardedCut): void {
    if (cut.count === 0) return;
    this.p.log.removed(cut.count);
    if (cut.goneBelow > 0) this.p.log.index.goneBelow(cut.goneBelow);
  }
}
