// The append-only events log: inserts (deduped by numbering.ts), per-spot reads, deletes from the old end.
import type { Connection } from './connection.js';
import { NumberingBatch } from './numbering.js';
import { SpotIndex } from './spot-index.js';
import type { AppendOutcome, NewEvent, StoredEvent } from './types.js';

interface EventRow {
  id: number;
  spot: string;
  resource: string;
  action: string;
  data: string;
  pb: Buffer | null;
  encoding: 'json' | 'pb';
  time_received: number;
  boot: number | null;
  seq: number | null;
}

const COLUMNS = 'id, spot, resource, action, data, pb, encoding, time_received, boot, seq';
const JOINED_COLUMNS = 'e.id, e.spot, e.resource, e.action, e.data, e.pb, e.encoding, e.time_received, e.boot, e.seq';
/** Rows per INSERT statement (10 parameters each, well under SQLite's limit). */
export const ROWS_PER_INSERT = 32;
const INSERT_SQL: string[] = [];

function toStored(r: EventRow): StoredEvent {
  return {
    id: r.id,
    spot: r.spot,
    resource: r.resource,
    action: r.action,
    data: r.data,
    pb: r.pb,
    encoding: r.encoding,
    timeReceived: r.time_received,
    boot: r.boot,
    seq: r.seq,
  };
}

export function eventBytes(e: NewEvent): number {
  return Buffer.byteLength(e.data) + (e.pb ? e.pb.byteLength : 0);
}

/** What one batch did; applied to the in-memory view only after COMMIT. */
export interface InsertEffects {
  outcomes: AppendOutcome[][];
  lastIdBySpot: Map<string, number>;
  /** Every stored row's spot and id, in id order (for the spot index; two arrays, no object per row). */
  spots: string[];
  ids: number[];
  inserted: number;
  duplicates: number;
}

export interface DropResult {
  count: number;
  firstId: number;
  lastId: number;
  /** Highest dropped id per spot. */
  bySpot: Map<string, number>;
}

/** Told what changes the newest id per spot (the backlog of each upstream follows it). */
export interface LogObserver {
  /** Events were committed for the spot; none of them is below `firstId`. */
  appended(spot: string, firstId: number): void;
  /** A commit stored `n` events (above every cursor: their ids are new). */
  stored(n: number): void;
  /** Inside a transaction: the oldest events were deleted, forwarded or not (a failed commit reloads everything). */
  dropped(events: readonly { id: number; spot: string }[]): void;
  /** The in-memory view was read again from the file. */
  loaded(spots: Iterable<string>): void;
}

export class EventLog {
  private observer: LogObserver | null = null;
  /** Newest event id per spot, while it has events above some upstream's cursor (backlog.ts drops the others). */
  readonly lastIdBySpot = new Map<string, number>();
  private stored = 0;
  private duplicates = 0;
  private highest = 0;
  private acknowledged = 0;

  /** Per-spot ids: recent ones in memory, older ones in event_spots. */
  readonly index: SpotIndex;
  private readonly params: unknown[][] = [];

  constructor(
    private readonly conn: Connection,
    indexFlushMs?: number,
    /** Monotonic milliseconds, for the index's flush interval. */
    clock?: () => number,
  ) {
    this.index = new SpotIndex(conn, indexFlushMs, clock);
  }

  /** Events stored now. */
  get count(): number {
    return this.stored;
  }

  /** Retransmissions dropped by dedupe, ever (forgotten spots' included). */
  get duplicatesTotal(): number {
    return this.duplicates;
  }

  /** Highest id ever handed out (AUTOINCREMENT's sequence), also when its row is gone. */
  get highestId(): number {
    return this.highest;
  }

  /** Highest id handed to the upstreams (on disk, or committed with buffer.forward after-commit): their reads stop there. */
  get acknowledgedId(): number {
    return this.acknowledged;
  }

  /** Told of appends, drops and loads from now on (the backlog, set once at open). */
  observe(observer: LogObserver): void {
    this.observer = observer;
  }

  /** Upstreams may read up to `id` now (hand-over.ts); never lowered. */
  acknowledge(id: number): void {
    if (id > this.acknowledged) this.acknowledged = id;
  }

  /** `n` events were deleted (pruned or dropped by the cap) by a transaction that committed. */
  removed(n: number): void {
    this.stored -= n;
  }

  /**
   * After a reopen: a COMMIT that reported failure may still have reached the disk, so the view is
   * read again; upstream reads stay where they were (rows no commit reported are handed over later).
   */
  reload(): void {
    const handed = this.acknowledged;
    this.load();
    this.acknowledged = handed;
  }

  /** Rebuilds the in-memory view from the file (at open and after a reopen). */
  load(): void {
    this.lastIdBySpot.clear();
    this.index.load();
    // Through event_spots (bounded below by the lowest stored id) and the memory tier: no scan of the events.
    const lowest = this.lowestId() ?? Infinity;
    const rows = this.conn.stmt('SELECT spot, max(id) AS last FROM event_spots WHERE id >= ? GROUP BY spot').all(lowest) as {
      spot: string;
      last: number;
    }[];
    for (const r of rows) this.lastIdBySpot.set(r.spot, r.last);
    for (const [spot, last] of this.index.recentLast()) this.lastIdBySpot.set(spot, last);
    const persisted = (this.conn.stmt('SELECT count(*) AS n FROM event_spots WHERE id >= ?').get(lowest) as { n: number }).n;
    this.stored = persisted + this.index.recentTotal;
    const seq = this.conn.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
    this.highest = seq?.seq ?? 0;
    this.acknowledged = this.highest;
    this.duplicates = (
      this.conn.stmt('SELECT coalesce(sum(duplicates), 0) AS n FROM spot_numbering').get() as { n: number }
    ).n;
    this.duplicates += Number(
      (this.conn.stmt("SELECT value FROM meta WHERE key = 'forgotten_duplicates'").get() as { value: string } | undefined)?.value ?? 0,
    );
    this.observer?.loaded(this.lastIdBySpot.keys());
  }

  /**
   * Inside the caller's transaction. One outcome list per request, in order. Rows go in with
   * multi-row INSERTs (ROWS_PER_INSERT per statement: one statement per row cost twice as much);
   * AUTOINCREMENT gives the rows of one statement consecutive ids, ending at lastInsertRowid.
   */
  insertBatch(requests: NewEvent[][]): InsertEffects {
    const numbering = new NumberingBatch(this.conn);
    const effects: InsertEffects = { outcomes: [], lastIdBySpot: new Map(), spots: [], ids: [], inserted: 0, duplicates: 0 };
    const rows: NewEvent[] = [];
    const slots: { id: number }[] = [];
    for (const events of requests) {
      const outcomes: AppendOutcome[] = [];
      for (const e of events) {
        if (numbering.isDuplicate(e)) {
          effects.duplicates++;
          outcomes.push({ duplicate: true });
          continue;
        }
        const slot = { id: 0 };
        rows.push(e);
        slots.push(slot);
        outcomes.push(slot);
      }
      effects.outcomes.push(outcomes);
    }
    for (let from = 0; from < rows.length; from += ROWS_PER_INSERT) {
      const count = Math.min(ROWS_PER_INSERT, rows.length - from);
      // Bound and read by SQLite during run(): one array per statement size is reused.
      const params = (this.params[count] ??= new Array<unknown>(count * 10));
      for (let j = 0; j < count; j++) {
        const e = rows[from + j]!;
        const at = j * 10;
        params[at] = e.spot;
        params[at + 1] = e.resource;
        params[at + 2] = e.action;
        params[at + 3] = e.data;
        params[at + 4] = e.pb ? Buffer.from(e.pb.buffer, e.pb.byteOffset, e.pb.byteLength) : null;
        params[at + 5] = e.encoding;
        params[at + 6] = e.timeReceived;
        params[at + 7] = e.boot;
        params[at + 8] = e.seq;
        params[at + 9] = eventBytes(e);
      }
      const result = this.insertStatement(count).run(params);
      const lastId = Number(result.lastInsertRowid);
      for (let j = 0; j < count; j++) {
        const id = lastId - count + 1 + j;
        slots[from + j]!.id = id;
        const spot = rows[from + j]!.spot;
        effects.lastIdBySpot.set(spot, id);
        effects.spots.push(spot);
        effects.ids.push(id);
      }
      effects.inserted += count;
    }
    numbering.write();
    return effects;
  }

  private insertStatement(rows: number) {
    let sql = INSERT_SQL[rows];
    if (sql === undefined) {
      sql = `INSERT INTO events (spot, resource, action, data, pb, encoding, time_received, boot, seq, size) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
      INSERT_SQL[rows] = sql;
    }
    return this.conn.stmt(sql);
  }

  applyInserted(effects: InsertEffects): void {
    for (let i = 0; i < effects.ids.length; i++) this.index.added(effects.spots[i]!, effects.ids[i]!);
    // Every id of this batch is above the highest one before it.
    const firstId = this.highest + 1;
    for (const [spot, id] of effects.lastIdBySpot) {
      this.lastIdBySpot.set(spot, id);
      this.highest = Math.max(this.highest, id);
    }
    if (this.observer) {
      this.observer.stored(effects.inserted);
      for (const spot of effects.lastIdBySpot.keys()) this.observer.appended(spot, firstId);
    }
    this.stored += effects.inserted;
    this.duplicates += effects.duplicates;
  }

  /** For upstreams: only events handed to them (`acknowledgedId`: with after-sync, a commit whose WAL fsync still runs is left out). */
  readSpot(spot: string, afterId: number, limit: number): StoredEvent[] {
    return this.spotRows(spot, afterId, this.acknowledged, limit).map(toStored);
  }

  list(query: { spot?: string; after?: number; limit: number }): StoredEvent[] {
    const after = query.after ?? 0;
    const rows =
      query.spot === undefined
        ? (this.conn.stmt(`SELECT ${COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?`).all(after, query.limit) as EventRow[])
        : this.spotRows(query.spot, after, Number.MAX_SAFE_INTEGER, query.limit);
    return rows.map(toStored);
  }

  /** The spot's events with afterId < id <= upTo, in order: event_spots first, then the memory tier. */
  private spotRows(spot: string, afterId: number, upTo: number, limit: number): EventRow[] {
    const index = this.index;
    let rows: EventRow[] = [];
    if (afterId < index.upto) {
      rows = this.conn
        .stmt(
          `SELECT ${JOINED_COLUMNS} FROM event_spots s JOIN events e ON e.id = s.id WHERE s.spot = ? AND s.id > ? AND s.id <= ? ORDER BY s.id LIMIT ?`,
        )
        .all(spot, afterId, Math.min(index.upto, upTo), limit) as EventRow[];
    }
    if (rows.length < limit) {
      const ids = index.recentAfter(spot, Math.max(afterId, index.upto), upTo, limit - rows.length);
      if (ids.length > 0) {
        const recent = this.conn
          .stmt(`SELECT ${COLUMNS} FROM events WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`)
          .all(JSON.stringify(ids)) as EventRow[];
        for (const r of recent) rows.push(r);
      }
    }
    return rows;
  }

  /** Up to `limit` stored events with id >= fromId, in id order (id, spot, time received only). */
  scanFrom(fromId: number, limit: number): { id: number; spot: string; timeReceived: number }[] {
    return this.conn.stmt('SELECT id, spot, time_received AS timeReceived FROM events WHERE id >= ? ORDER BY id LIMIT ?').all(fromId, limit) as {
      id: number;
      spot: string;
      timeReceived: number;
    }[];
  }

  oldestTime(): number | null {
    const r = this.conn.stmt('SELECT time_received AS t FROM events ORDER BY id LIMIT 1').get() as
      | { t: number }
      | undefined;
    return r ? r.t : null;
  }

  /** `lowest`: the lowest stored id, if the caller counts for many spots (one query, not one per spot). */
  countAfter(spot: string, afterId: number, lowest = this.lowestId()): number {
    // Rows of event_spots below the lowest stored id are gone events not cleaned up yet.
    const from = Math.max(afterId, (lowest ?? Infinity) - 1);
    const persisted = (
      this.conn.stmt('SELECT count(*) AS n FROM event_spots WHERE spot = ? AND id > ? AND id <= ?').get(spot, from, this.index.upto) as {
        n: number;
      }
    ).n;
    return persisted + this.index.recentCountAfter(spot, Math.max(afterId, this.index.upto));
  }

  /** Stored events of the spot with afterId < id <= upTo. */
  countBetween(spot: string, afterId: number, upTo: number): number {
    const index = this.index;
    let n = index.recentCountBetween(spot, Math.max(afterId, index.upto), upTo);
    if (afterId < index.upto) {
      // Rows of event_spots below the lowest stored id are gone events not cleaned up yet.
      const from = Math.max(afterId, (this.lowestId() ?? Infinity) - 1);
      n += (
        this.conn.stmt('SELECT count(*) AS n FROM event_spots WHERE spot = ? AND id > ? AND id <= ?').get(spot, from, Math.min(upTo, index.upto)) as {
          n: number;
        }
      ).n;
    }
    return n;
  }

  /** Whether any event of the spot is stored (`lowest`: the lowest stored id; rows of event_spots below it are gone events). */
  hasEvents(spot: string, lowest = this.lowestId()): boolean {
    if (lowest === null) return false;
    if (this.index.recentCountAfter(spot, 0) > 0) return true;
    return this.conn.stmt('SELECT 1 FROM event_spots WHERE spot = ? AND id >= ? LIMIT 1').get(spot, lowest) !== undefined;
  }

  /** The spot's newest id is no longer kept: caught up everywhere, or forgotten (its events, if any, stay). */
  forget(spot: string): void {
    this.lastIdBySpot.delete(spot);
  }

  /** Inside the caller's transaction: the oldest events, forwarded or not. */
  dropOldest(limit: number): DropResult {
    const rows = this.conn.stmt('SELECT id, spot FROM events ORDER BY id LIMIT ?').all(limit) as {
      id: number;
      spot: string;
    }[];
    const result: DropResult = { count: 0, firstId: 0, lastId: 0, bySpot: new Map() };
    if (rows.length === 0) return result;
    const lastId = rows[rows.length - 1]!.id;
    const changes = this.conn.stmt('DELETE FROM events WHERE id <= ?').run(lastId).changes;
    this.observer?.dropped(rows);
    for (const r of rows) result.bySpot.set(r.spot, r.id);
    result.count = changes;
    result.firstId = rows[0]!.id;
    result.lastId = lastId;
    return result;
  }

  /** The oldest stored event's id, if any. */
  lowestId(): number | null {
    const r = this.conn.stmt('SELECT id FROM events ORDER BY id LIMIT 1').get() as { id: number } | undefined;
    return r ? r.id : null;
  }

  /** Inside the caller's transaction: every event with id < below (one range over the rowids). */
  pruneBelow(below: number): number {
    return this.conn.stmt('DELETE FROM events WHERE id < ?').run(below).changes;
  }

  /**
   * Inside the caller's transaction: at most limit events of the spot with from <= id <= upTo
   * and id <= bound (`from` at or above the lowest stored id); `next`: the spot's first event
   * above `bound` (and at or below upTo), when seen. Only what event_spots holds: the memory
   * tier's events are pruned once written there (within a second) or by the range DELETE.
   */
  prune(spot: string, from: number, upTo: number, limit: number, bound = Number.MAX_SAFE_INTEGER): { deleted: number; next: number | null } {
    const ids = this.conn
      .stmt('SELECT id FROM event_spots WHERE spot = ? AND id >= ? AND id <= ? ORDER BY id LIMIT ?')
      .pluck()
      .all(spot, from, Math.min(upTo, this.index.upto), limit + 1) as number[];
    let n = 0;
    while (n < ids.length && n < limit && ids[n]! <= bound) n++;
    const next = n < ids.length && ids[n]! > bound ? ids[n]! : null;
    if (n === 0) return { deleted: 0, next };
    const gone = n === ids.length ? ids : ids.slice(0, n);
    const deleted = this.conn.stmt('DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))').run(JSON.stringify(gone)).changes;
    this.conn.stmt('DELETE FROM event_spots WHERE spot = ? AND id <= ?').run(spot, gone[n - 1]!);
    return { deleted, next };
  }
}
