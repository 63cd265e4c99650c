// Poison events an upstream moved aside, and the event it suspects now (docs/storage.md, Quarantine).
import type { Connection } from './connection.js';
import type { CursorBook } from './cursors.js';
import type { EventLog } from './event-log.js';
import type { DurableWrite } from './command-queue.js';
import type { PoisonSuspect, QuarantineBook, QuarantinedEvent } from './types.js';

interface QuarantineRow {
  id: number;
  upstream: string;
  event_id: number;
  spot: string;
  resource: string;
  action: string;
  data: string;
  pb: Buffer | null;
  encoding: string;
  time_received: number;
  reason: string;
  strikes: number;
  time: number;
  resends: number;
  last_resend_at: number | null;
}

function fromRow(r: QuarantineRow): QuarantinedEvent {
  return {
    id: r.id,
    upstream: r.upstream,
    eventId: r.event_id,
    spot: r.spot,
    resource: r.resource,
    action: r.action,
    data: r.data,
    pb: r.pb ? new Uint8Array(r.pb) : null,
    encoding: r.encoding,
    timeReceived: r.time_received,
    reason: r.reason,
    strikes: r.strikes,
    timeQuarantined: r.time,
    resends: r.resends,
    lastResendAt: r.last_resend_at,
  };
}

export class QuarantineTable implements QuarantineBook {
  /** Last counts read, per upstream: status must answer even while the file cannot be read. */
  private readonly counted = new Map<string, number>();

  constructor(
    private readonly conn: Connection,
    private readonly log: EventLog,
    private readonly cursors: CursorBook,
    private readonly durably: DurableWrite,
    private readonly now: () => number,
  ) {}

  add(upstream: string, spot: string, eventId: number, reason: string, strikes: number): QuarantinedEvent {
    const cursor = this.cursors.get(upstream, spot);
    const next = this.log.readSpot(spot, cursor, 1)[0];
    if (!next || next.id !== eventId) {
      throw new Error(
        `spot ${spot}: event ${eventId} is not the next one for upstream ${upstream} (cursor ${cursor}, next ${next?.id ?? 'none'}); not quarantined`,
      );
    }
    const id = this.durably(() => {
      const row = this.conn
        .stmt(
          `INSERT INTO quarantine (upstream, event_id, spot, resource, action, data, pb, encoding, time_received, reason, strikes, time)
           SELECT ?, id, spot, resource, action, data, pb, encoding, time_received, ?, ?, ? FROM events WHERE id = ?
           ON CONFLICT (upstream, event_id) DO UPDATE SET reason = excluded.reason, strikes = excluded.strikes, time = excluded.time
           RETURNING id`,
        )
        .get(upstream, reason, strikes, this.now(), eventId) as { id: number };
      this.conn
        .stmt(
          `INSERT INTO cursors (upstream, spot, last_id) VALUES (?, ?, ?)
           ON CONFLICT (upstream, spot) DO UPDATE SET last_id = max(last_id, excluded.last_id)`,
        )
        .run(upstream, spot, eventId);
      return row.id;
    });
    this.cursors.advance(upstream, spot, eventId);
    return this.get(id)!;
  }

  list(query: { upstream?: string; after?: number; limit: number }): QuarantinedEvent[] {
    const rows = this.conn
      .stmt('SELECT * FROM quarantine WHERE id > ? AND (? IS NULL OR upstream = ?) ORDER BY id LIMIT ?')
      .all(query.after ?? 0, query.upstream ?? null, query.upstream ?? null, query.limit) as QuarantineRow[];
    return rows.map(fromRow);
  }

  get(id: number): QuarantinedEvent | null {
    const row = this.conn.stmt('SELECT * FROM quarantine WHERE id = ?').get(id) as QuarantineRow | undefined;
    return row ? fromRow(row) : null;
  }

  count(upstream?: string): number {
    const key = upstream ?? '';
    try {
      const { n } = this.conn.stmt('SELECT count(*) AS n FROM quarantine WHERE ? IS NULL OR upstream = ?').get(upstream ?? null, upstream ?? null) as {
        n: number;
      };
      this.counted.set(key, n);
      return n;
    } catch {
      return this.counted.get(key) ?? 0;
    }
  }

  remove(id: number): boolean {
    return this.durably(() => this.conn.stmt('DELETE FROM quarantine WHERE id = ?').run(id).changes > 0);
  }

  noteResend(id: number, reason: string, strikes: number): void {
    this.durably(() =>
      this.conn
        .stmt('UPDATE quarantine SET reason = ?, strikes = strikes + ?, resends = resends + 1, last_resend_at = ? WHERE id = ?')
        .run(reason, strikes, this.now(), id),
    );
  }

  suspect(upstream: string): PoisonSuspect | null {
    const row = this.conn.stmt('SELECT spot, event_id, strikes, since FROM poison_suspects WHERE upstream = ?').get(upstream) as
      | { spot: string; event_id: number; strikes: number; since: number }
      | undefined;
    return row ? { spot: row.spot, eventId: row.event_id, strikes: row.strikes, since: row.since } : null;
  }

  saveSuspect(upstream: string, suspect: PoisonSuspect | null): void {
    this.durably(() => {
      if (suspect === null) {
        this.conn.stmt('DELETE FROM poison_suspects WHERE upstream = ?').run(upstream);
        return;
      }
      this.conn
        .stmt(
          `INSERT INTO poison_suspects (upstream, spot, event_id, strikes, since) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (upstream) DO UPDATE SET spot = excluded.spot, event_id = excluded.event_id, strikes = excluded.strikes, since = excluded.since`,
        )
        .run(upstream, suspect.spot, suspect.eventId, suspect.strikes, suspect.since);
    });
  }
}
