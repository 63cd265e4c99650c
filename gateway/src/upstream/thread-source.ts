// The forwarder's view of the store inside its worker thread: its own read-only SQLite
// connection, acknowledged ids from the main thread, cursor advances sent back in batches.
import Database from 'better-sqlite3';
import type { SpotBacklog } from './scheduler.js';
import type { ForwardEvent, ForwardSource } from './source.js';

interface Row {
  id: number;
  spot: string;
  resource: string;
  action: string;
  data: string;
  pb: Buffer | null;
}

export class ThreadSource implements ForwardSource {
  private readonly db: Database.Database;
  private readonly read: Database.Statement;
  /** Highest id per spot the main thread acknowledged (on disk): reads stop there. */
  private readonly acked = new Map<string, number>();
  private readonly cursors = new Map<string, number>();
  private readonly listeners = new Set<(spot: string, lastId: number) => void>();
  private dirty = new Map<string, number>();
  private flushScheduled = false;

  constructor(
    dbPath: string,
    readonly instanceId: string,
    private readonly upstream: string,
    private readonly sendCursors: (list: Array<[string, number]>) => void,
  ) {
    this.db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 1000 });
    this.read = this.db.prepare(
      'SELECT id, spot, resource, action, data, pb FROM events WHERE spot = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?',
    );
    // Everything in the file when the gateway started is acknowledged.
    for (const r of this.db.prepare('SELECT spot, max(id) AS last FROM events GROUP BY spot').all() as { spot: string; last: number }[]) {
      this.acked.set(r.spot, r.last);
    }
    const cursorRows = this.db.prepare('SELECT spot, last_id FROM cursors WHERE upstream = ?').all(upstream) as { spot: string; last_id: number }[];
    for (const r of cursorRows) this.cursors.set(r.spot, r.last_id);
  }

  /** The main thread acknowledged commits: new events to forward. */
  appended(list: Array<[string, number]>): void {
    for (const [spot, lastId] of list) {
      if (lastId > (this.acked.get(spot) ?? 0)) this.acked.set(spot, lastId);
      for (const listener of this.listeners) listener(spot, lastId);
    }
  }

  pendingSpots(_upstream: string): SpotBacklog[] {
    const out: SpotBacklog[] = [];
    for (const [spot, lastId] of this.acked) {
      const cursor = this.cursors.get(spot) ?? 0;
      if (lastId > cursor) out.push({ spot, cursor, lastId });
    }
    return out;
  }

  readSpot(_upstream: string, spot: string, afterId: number, limit: number): ForwardEvent[] {
    const upTo = this.acked.get(spot) ?? 0;
    if (upTo <= afterId) return [];
    return this.read.all(spot, afterId, upTo, limit) as Row[];
  }

  advanceCursor(_upstream: string, spot: string, id: number): void {
    if (id <= (this.cursors.get(spot) ?? 0)) return;
    this.cursors.set(spot, id);
    this.dirty.set(spot, id);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushCursors());
  }

  cursor(_upstream: string, spot: string): number {
    return this.cursors.get(spot) ?? 0;
  }

  onAppended(listener: (spot: string, lastId: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends the cursor advances not sent yet (also before the thread stops). */
  flushCursors(): void {
    this.flushScheduled = false;
    if (this.dirty.size === 0) return;
    const list = [...this.dirty];
    this.dirty = new Map();
    this.sendCursors(list);
  }

  close(): void {
    this.flushCursors();
    this.db.close();
  }
}
