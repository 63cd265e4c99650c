// Malformed messages: queued, written with the next group commit, the newest KEEP kept.
import type { Connection } from './connection.js';
import type { RejectedInput, RejectedLog, RejectedRecord } from './types.js';

export const KEEP_REJECTED = 10000;

interface RejectedRow {
  id: number;
  spot: string;
  raw: Buffer;
  reason: string;
  offset: number;
  time: number;
}

export class RejectedMessages implements RejectedLog {
  private queue: RejectedInput[] = [];
  private total = 0;
  private totalDirty = false;

  constructor(
    private readonly conn: Connection,
    private readonly requestFlush: () => void,
  ) {}

  load(): void {
    const r = this.conn.stmt("SELECT value FROM meta WHERE key = 'rejected_total'").get() as
      | { value: string }
      | undefined;
    this.total = r ? Number(r.value) : 0;
  }

  add(rejected: RejectedInput): void {
    // Memory stays bounded even while the disk refuses writes.
    if (this.queue.length >= KEEP_REJECTED) this.queue.shift();
    this.queue.push(rejected);
    this.total++;
    this.requestFlush();
  }

  get hasQueued(): boolean {
    return this.queue.length > 0 || this.totalDirty;
  }

  /** After the file was replaced: the count is written again. */
  markTotalDirty(): void {
    this.totalDirty = true;
  }

  /** Inside the caller's transaction; returns what was taken so a failed commit can requeue it. */
  writeQueued(): RejectedInput[] {
    if (this.queue.length === 0 && !this.totalDirty) return [];
    this.totalDirty = false;
    const taken = this.queue;
    this.queue = [];
    const insert = this.conn.stmt('INSERT INTO rejected (spot, raw, reason, offset, time) VALUES (?, ?, ?, ?, ?)');
    for (const r of taken) {
      insert.run(r.spot, Buffer.from(r.raw.buffer, r.raw.byteOffset, r.raw.byteLength), r.reason, r.offset, r.time);
    }
    this.conn.stmt('DELETE FROM rejected WHERE id <= (SELECT max(id) FROM rejected) - ?').run(KEEP_REJECTED);
    this.conn
      .stmt("INSERT INTO meta (key, value) VALUES ('rejected_total', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(String(this.total));
    return taken;
  }

  requeue(taken: RejectedInput[]): void {
    this.totalDirty = true;
    this.queue = [...taken, ...this.queue].slice(-KEEP_REJECTED);
  }

  list(query: { limit: number; spot?: string }): RejectedRecord[] {
    const rows = (
      query.spot === undefined
        ? this.conn.stmt('SELECT * FROM rejected ORDER BY id DESC LIMIT ?').all(query.limit)
        : this.conn.stmt('SELECT * FROM rejected WHERE spot = ? ORDER BY id DESC LIMIT ?').all(query.spot, query.limit)
    ) as RejectedRow[];
    return rows.map((r) => ({ id: r.id, spot: r.spot, raw: r.raw, reason: r.reason, offset: r.offset, time: r.time }));
  }

  count(): number {
    return this.total;
  }
}
