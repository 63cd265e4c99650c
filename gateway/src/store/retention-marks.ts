// Commit-time marks for buffer.retain: "every id up to `upto` was committed at or before `at`"
// (store clock), so that retention prunes by the time of the commit without a time per event
// (docs/storage.md, "Pruning and space"). Also `history_from`: from when the file holds every event.
import type { Connection } from './connection.js';

export interface Mark {
  /** Unix ms, store clock; never below the mark before. */
  at: number;
  upto: number;
}

/** A mark is sealed (written) at most this often, and at least every retain / MAX_MARKS. */
export const MIN_MARK_INTERVAL_MS = 1000;
const MAX_MARKS = 1000;

export class RetentionMarks {
  /** Sealed marks, ascending in `at` and `upto`; the first may be at or before the cutoff. */
  private readonly sealed: Mark[] = [];
  /** Commits since the last seal: started at `from`, last at `at`, up to `upto`. */
  private open: { from: number; at: number; upto: number } | null = null;
  readonly intervalMs: number;
  private history = 0;
  private historyPending = 0;

  constructor(
    private readonly conn: Connection,
    /** 0: forwarded events are pruned at once, no mark is kept. */
    readonly retainMs: number,
    /** Wall-clock unix ms (the store's `now`). */
    private readonly now: () => number,
  ) {
    this.intervalMs = Math.max(MIN_MARK_INTERVAL_MS, Math.ceil(retainMs / MAX_MARKS));
  }

  get enabled(): boolean {
    return this.retainMs > 0;
  }

  /** From when (unix ms) the file holds every event committed; null with retain 0. */
  get historyFrom(): number | null {
    return this.enabled ? this.history : null;
  }

  /**
   * At open, in a transaction of the caller's: the marks and `history_from` from the file, the
   * setting in meta; events above the last mark (a crash, a file from before marks) get one now.
   */
  load(highestId: number): void {
    this.sealed.length = 0;
    this.open = null;
    const meta = (key: string): string | undefined =>
      (this.conn.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
    const before = meta('retain_ms');
    this.writeMeta('retain_ms', this.retainMs);
    if (!this.enabled) return;
    const now = this.now();
    // Kept at once before (retain 0, or a file from before retain): the forwarded events of then are gone.
    // A new file (no event ever stored) lacks nothing.
    if (before === undefined || before === '0') {
      this.history = before === undefined && highestId === 0 ? 0 : now;
      this.writeMeta('history_from', this.history);
    } else this.history = Number(meta('history_from') ?? now);
    for (const m of this.conn.stmt('SELECT at, upto FROM retain_marks ORDER BY id').all() as Mark[]) this.push(m);
    const last = this.sealed[this.sealed.length - 1];
    if (highestId > (last?.upto ?? 0)) this.insert({ at: Math.max(now, last?.at ?? 0), upto: highestId });
  }

  /** The file was rebuilt empty (recovery.ts): everything before is in the file moved aside. */
  rebuilt(): void {
    this.writeMeta('retain_ms', this.retainMs);
    if (!this.enabled) return;
    this.history = Math.max(this.history, this.now());
    this.writeMeta('history_from', this.history);
    for (const m of this.sealed) this.conn.stmt('INSERT INTO retain_marks (at, upto) VALUES (?, ?)').run(m.at, m.upto);
  }

  private push(m: Mark): void {
    const last = this.sealed[this.sealed.length - 1];
    this.sealed.push(last ? { at: Math.max(m.at, last.at), upto: Math.max(m.upto, last.upto) } : m);
  }

  private insert(m: Mark): void {
    this.conn.stmt('INSERT INTO retain_marks (at, upto) VALUES (?, ?)').run(m.at, m.upto);
    this.push(m);
  }

  private writeMeta(key: string, value: number): void {
    this.conn
      .stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, String(value));
  }

  /** The commit's time: the wall clock, never below the marks before it (a clock stepped back keeps events longer). */
  commitTime(): number {
    const t = this.now();
    const last = this.open?.at ?? this.sealed[this.sealed.length - 1]?.at ?? t;
    return Math.max(t, last);
  }

  /**
   * Inside the transaction of a commit at `at`: the open mark is written when its interval is
   * over (then returned, to be applied after COMMIT), and marks no longer needed are deleted.
   */
  sealIfDue(at: number): Mark | null {
    const open = this.open;
    if (!this.enabled || open === null || at - open.from < this.intervalMs) return null;
    const mark = { at: open.at, upto: open.upto };
    this.conn.stmt('INSERT INTO retain_marks (at, upto) VALUES (?, ?)').run(mark.at, mark.upto);
    const first = this.foldTo(at);
    if (first) this.conn.stmt('DELETE FROM retain_marks WHERE upto < ?').run(first.upto);
    return mark;
  }

  /** At a clean close: the open mark is written, so that the events it covers keep their commit time. */
  sealOpen(): void {
    if (this.open === null) return;
    this.insert({ at: this.open.at, upto: this.open.upto });
    this.open = null;
  }

  /** After the COMMIT of a commit at `at` that stored ids up to `highestId` (0: it stored none). */
  committed(at: number, sealed: Mark | null, highestId: number): void {
    if (!this.enabled) return;
    this.settled();
    if (sealed) {
      this.push(sealed);
      this.open = null;
    }
    if (highestId === 0) return;
    if (this.open === null) this.open = { from: at, at, upto: highestId };
    else {
      this.open.at = Math.max(this.open.at, at);
      this.open.upto = highestId;
    }
  }

  /** A transaction rolled back: what it wrote of history_from is not in the file. */
  rolledBack(): void {
    this.historyPending = 0;
  }

  /** Drops the marks a later one, also at or before the cutoff, makes useless; the first left. */
  private foldTo(now: number): Mark | undefined {
    const cutoff = now - this.retainMs;
    let drop = 0;
    while (drop + 1 < this.sealed.length && this.sealed[drop + 1]!.at <= cutoff) drop++;
    if (drop > 0) this.sealed.splice(0, drop);
    return this.sealed[0];
  }

  /**
   * The newest mark at or before `now - retain` (ids up to its `upto` may be pruned), or null
   * when no event is old enough yet. With retain 0, every id.
   */
  bound(): Mark | null {
    if (!this.enabled) return { at: Number.MAX_SAFE_INTEGER, upto: Number.MAX_SAFE_INTEGER };
    const now = this.now();
    const cutoff = now - this.retainMs;
    if (this.open !== null && this.open.at <= cutoff) return { at: this.open.at, upto: this.open.upto };
    const first = this.foldTo(now);
    return first !== undefined && first.at <= cutoff ? first : null;
  }

  /**
   * Inside a transaction: events committed at or before `at` (a retention bound's time), or
   * received at or before it (the cap's), were deleted; the history begins after.
   */
  moveHistory(at: number): void {
    if (!this.enabled || at <= Math.max(this.history, this.historyPending)) return;
    this.writeMeta('history_from', at);
    this.historyPending = at;
  }

  private settled(): void {
    if (this.historyPending > this.history) this.history = this.historyPending;
    this.historyPending = 0;
  }
}
