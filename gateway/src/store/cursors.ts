// Per (upstream, spot) cursors: the last event id an upstream is done with. Memory first, persisted in batches.
import type { Connection } from './connection.js';

function key(upstream: string, spot: string): string {
  return `${upstream}\u0000${spot}`;
}

interface CursorUpdate {
  upstream: string;
  spot: string;
  id: number;
}

export type CursorListener = (upstream: string, spot: string, from: number, to: number) => void;

export class CursorBook {
  private readonly byUpstream = new Map<string, Map<string, number>>();
  private dirty = new Map<string, CursorUpdate>();
  private onAdvance: CursorListener | null = null;

  constructor(readonly upstreams: readonly string[]) {
    for (const u of upstreams) this.byUpstream.set(u, new Map());
  }

  /** Told from now on when a cursor of a spot moved from `from` to `to` (the backlog follows it; set once at open). */
  observe(listener: CursorListener): void {
    this.onAdvance = listener;
  }

  load(conn: Connection): void {
    const rows = conn.stmt('SELECT upstream, spot, last_id FROM cursors').all() as {
      upstream: string;
      spot: string;
      last_id: number;
    }[];
    for (const r of rows) {
      const spots = this.byUpstream.get(r.upstream);
      if (spots && (spots.get(r.spot) ?? 0) < r.last_id) spots.set(r.spot, r.last_id);
    }
  }

  get(upstream: string, spot: string): number {
    return this.byUpstream.get(upstream)?.get(spot) ?? 0;
  }

  /** Never backwards; unknown upstreams are an error in the caller's wiring. */
  advance(upstream: string, spot: string, id: number): boolean {
    const spots = this.byUpstream.get(upstream);
    if (!spots) throw new Error(`store: unknown upstream "${upstream}" (configured: ${this.upstreams.join(', ') || 'none'})`);
    const from = spots.get(spot) ?? 0;
    if (from >= id) return false;
    spots.set(spot, id);
    this.dirty.set(key(upstream, spot), { upstream, spot, id });
    this.onAdvance?.(upstream, spot, from, id);
    return true;
  }

  /** forget.ts deleted its rows: gone from memory too, with any pending write. */
  forget(spot: string): void {
    for (const [upstream, spots] of this.byUpstream) {
      spots.delete(spot);
      this.dirty.delete(key(upstream, spot));
    }
  }

  /** The cursor every upstream has passed: events at or below it may be pruned. */
  minFor(spot: string): number {
    let min = Infinity;
    for (const spots of this.byUpstream.values()) min = Math.min(min, spots.get(spot) ?? 0);
    return min === Infinity ? 0 : min;
  }

  /** Highest id any cursor points at. */
  maxId(): number {
    let max = 0;
    for (const spots of this.byUpstream.values()) for (const id of spots.values()) max = Math.max(max, id);
    return max;
  }

  /** After the file was replaced: everything in memory is written again. */
  markAllDirty(): void {
    for (const [upstream, spots] of this.byUpstream) {
      for (const [spot, id] of spots) this.dirty.set(key(upstream, spot), { upstream, spot, id });
    }
  }

  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  /** Inside the caller's transaction; returns the written updates so a failed commit can requeue them. */
  writeDirty(conn: Connection): CursorUpdate[] {
    const taken = [...this.dirty.values()];
    this.dirty = new Map();
    const upsert = conn.stmt(
      `INSERT INTO cursors (upstream, spot, last_id) VALUES (?, ?, ?)
       ON CONFLICT (upstream, spot) DO UPDATE SET last_id = max(last_id, excluded.last_id)`,
    );
    for (const u of taken) upsert.run(u.upstream, u.spot, u.id);
    return taken;
  }

  requeue(updates: CursorUpdate[]): void {
    for (const u of updates) {
      const k = key(u.upstream, u.spot);
      const newer = this.dirty.get(k);
      if (!newer || newer.id < u.id) this.dirty.set(k, u);
    }
  }
}
