// Dedupe by the spots' own numbering (boot, seq) against spot_numbering, as one batch sees it: each
// spot's row read once, written back once, inside the batch's transaction (docs/storage.md, "Dedupe").
import type { Connection } from './connection.js';
import type { NewEvent } from './types.js';

interface Numbering {
  boot: number;
  highSeq: number;
  duplicates: number;
  changed: boolean;
}

/** The spot's stored numbering (the newest numbered event committed), or null: never numbered, or forgotten. */
export function storedNumbering(conn: Connection, spot: string): { boot: number; highSeq: number } | null {
  const r = conn.stmt('SELECT boot, high_seq FROM spot_numbering WHERE spot = ?').get(spot) as { boot: number; high_seq: number } | undefined;
  return r ? { boot: r.boot, highSeq: r.high_seq } : null;
}

export class NumberingBatch {
  private readonly bySpot = new Map<string, Numbering | null>();

  constructor(private readonly conn: Connection) {}

  private numberingOf(spot: string): Numbering | null {
    if (!this.bySpot.has(spot)) {
      const r = this.conn.stmt('SELECT boot, high_seq, duplicates FROM spot_numbering WHERE spot = ?').get(spot) as
        | { boot: number; high_seq: number; duplicates: number }
        | undefined;
      this.bySpot.set(spot, r ? { boot: r.boot, highSeq: r.high_seq, duplicates: r.duplicates, changed: false } : null);
    }
    return this.bySpot.get(spot) ?? null;
  }

  /** A retransmission of a stored event (counted); otherwise a numbered event becomes its spot's newest. */
  isDuplicate(e: NewEvent): boolean {
    if (e.boot === null || e.seq === null) return false;
    const n = this.numberingOf(e.spot);
    if (n && n.boot === e.boot && e.seq <= n.highSeq) {
      n.duplicates++;
      n.changed = true;
      return true;
    }
    if (n) {
      n.highSeq = n.boot === e.boot ? Math.max(n.highSeq, e.seq) : e.seq;
      n.boot = e.boot;
      n.changed = true;
    } else {
      this.bySpot.set(e.spot, { boot: e.boot, highSeq: e.seq, duplicates: 0, changed: true });
    }
    return false;
  }

  /** Inside the transaction, after the inserts: the rows that changed. */
  write(): void {
    const upsert = this.conn.stmt(
      `INSERT INTO spot_numbering (spot, boot, high_seq, duplicates) VALUES (?, ?, ?, ?)
       ON CONFLICT (spot) DO UPDATE SET boot = excluded.boot, high_seq = excluded.high_seq, duplicates = excluded.duplicates`,
    );
    for (const [spot, n] of this.bySpot) {
      if (n?.changed) upsert.run(spot, n.boot, n.highSeq, n.duplicates);
    }
  }
}
