// The size cap: before a batch's inserts, room is made (drop-oldest) or the appends that fit are
// chosen (reject); every dropped event is counted and logged (docs/storage.md, "Size cap").
import type { ForwardedCut, ForwardedCutter } from './cap-forwarded.js';
import type { Connection } from './connection.js';
import type { CursorBook } from './cursors.js';
import type { DropResult, EventLog } from './event-log.js';
import type { SpaceBudget } from './space.js';
import { RETRY_AFTER_SECONDS } from './sqlite-errors.js';
import { type NewEvent, type OverflowPolicy, type StoreLogger, StoreUnavailableError } from './types.js';

export const DROP_BATCH = 500;
/** Forwarded events found above the lowest needed id are cut until the live size is this share of the budget below it. */
const CUT_SLACK_SHARE = 1 / 32;
/** Exact page counts are asked again after this long, or when the estimate nears the cap. */
const USAGE_RECHECK_MS = 1000;
const USAGE_RECHECK_SHARE = 0.9;
/** Row header, rowid, index entry: what an event costs beyond its data. */
const ROW_OVERHEAD = 48;

export function estimateBytes(events: { spot: string; resource: string; action: string; data: string; pb: Uint8Array | null }[]): number {
  let n = 0;
  for (const e of events) {
    n += ROW_OVERHEAD + 2 * e.spot.length + e.resource.length + e.action.length + e.data.length + (e.pb ? e.pb.byteLength : 0);
  }
  return n;
}

/** What the cap did inside a transaction; applied only after COMMIT. */
export interface Room {
  /** The first `accepted` appends of the batch are stored; the rest are refused (policy reject). */
  accepted: number;
  drops: DropResult[];
  /** Retained forwarded events removed first (not counted as dropped). */
  cut: ForwardedCut | null;
}

export interface SizeCapParts {
  conn: Connection;
  log: EventLog;
  cursors: CursorBook;
  budget: SpaceBudget;
  /** Removes retained forwarded events before anything else. */
  cutter: ForwardedCutter;
  policy: OverflowPolicy;
  logger: StoreLogger;
  /** Wall-clock milliseconds: when the cap last dropped is shown in status and /healthz. */
  now: () => number;
  /** The moved cursors are written with the next commit. */
  requestFlush: () => void;
}

export class SizeCap {
  private droppedEver = 0;
  private lastDrop: number | null = null;
  private refusingNow = false;
  /** Live bytes as last counted plus what was added since (page counts cost two pragmas). */
  private usedEstimate: number | null = null;
  private usedCountedAt = 0;

  constructor(private readonly p: SizeCapParts) {
    const row = p.conn.stmt("SELECT value FROM meta WHERE key = 'dropped'").get() as { value: string } | undefined;
    this.droppedEver = row ? Number(row.value) : 0;
  }

  /** Events dropped by the cap, ever (meta.dropped). */
  get dropped(): number {
    return this.droppedEver;
  }

  /** When the cap last dropped events (drop-oldest); null if never since open. */
  get lastDropAt(): number | null {
    return this.lastDrop;
  }

  /** Policy reject is refusing appends (warned once per episode). */
  get refusing(): boolean {
    return this.refusingNow;
  }

  get budget(): SpaceBudget {
    return this.p.budget;
  }

  get policy(): OverflowPolicy {
    return this.p.policy;
  }

  /** The file was rebuilt: its pages are counted again, and the drop count written to it. */
  rebuilt(): void {
    this.usedEstimate = null;
    this.writeDropped(this.dropped);
  }

  /**
   * Inside the caller's transaction, for the appends of a batch, in order. drop-oldest: deletes
   * the oldest events until all fit (and counts them in meta); reject: how many of the first fit.
   */
  makeRoom(batch: readonly { events: NewEvent[] }[]): Room {
    const room = this.fit(batch.map((b) => estimateBytes(b.events)));
    const droppedNow = room.drops.reduce((n, d) => n + d.count, 0);
    if (droppedNow > 0) this.writeDropped(this.dropped + droppedNow);
    return room;
  }

  private writeDropped(total: number): void {
    this.p.conn
      .stmt("INSERT INTO meta (key, value) VALUES ('dropped', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(String(total));
  }

  private fit(requestBytes: number[]): Room {
    const { conn, budget } = this.p;
    const drops: DropResult[] = [];
    const incoming = requestBytes.reduce((a, b) => a + b, 0);
    const clock = this.p.now();
    if (
      this.usedEstimate !== null &&
      clock - this.usedCountedAt < USAGE_RECHECK_MS &&
      this.usedEstimate + incoming <= USAGE_RECHECK_SHARE * budget.liveBudget
    ) {
      this.usedEstimate += incoming;
      return { accepted: requestBytes.length, drops, cut: null };
    }
    let used = conn.liveBytes();
    this.usedEstimate = used + incoming;
    this.usedCountedAt = clock;
    if (used + incoming <= budget.liveBudget) return { accepted: requestBytes.length, drops, cut: null };
    // Forwarded events first, under either policy; then the policy decides about unforwarded ones.
    const cut = this.p.cutter.cut(
      () => conn.liveBytes() + incoming <= budget.liveBudget,
      () => conn.liveBytes() + incoming <= budget.liveBudget * (1 - CUT_SLACK_SHARE),
    );
    this.usedEstimate = null;
    used = conn.liveBytes();
    if (used + incoming <= budget.liveBudget) return { accepted: requestBytes.length, drops, cut };
    if (this.p.policy === 'reject') {
      let accepted = 0;
      for (const bytes of requestBytes) {
        if (used + bytes > budget.liveBudget) break;
        used += bytes;
        accepted++;
      }
      return { accepted, drops, cut };
    }
    while (used + incoming > budget.liveBudget) {
      const d = this.p.log.dropOldest(DROP_BATCH);
      if (d.count === 0) break;
      drops.push(d);
      used = conn.liveBytes();
    }
    return { accepted: requestBytes.length, drops, cut };
  }

  /**
   * After COMMIT: the error for the appends the cap refused (`accepted` of `batchLength` fitted),
   * or null. One warn line when refusing starts, one info line when a batch fits again.
   */
  refusal(accepted: number, batchLength: number): StoreUnavailableError | null {
    const { conn, logger } = this.p;
    if (accepted < batchLength) {
      const e = new StoreUnavailableError(
        `store ${conn.path}: buffer full (cap ${Math.round(this.p.budget.maxBytes / 1048576)} MiB, policy reject); events are stored again once forwarded ones are pruned`,
        'full',
        RETRY_AFTER_SECONDS,
      );
      if (!this.refusingNow) logger.warn({ db: conn.path, code: 'full' }, e.message);
      this.refusingNow = true;
      return e;
    }
    if (this.refusingNow && batchLength > 0) {
      logger.info({ db: conn.path }, 'store: buffer has room again, storing events');
      this.refusingNow = false;
    }
    return null;
  }

  /** After COMMIT: the cut and the drops are real; cursors move past the dropped events. */
  applyRoom({ cut, drops }: Room): void {
    if (cut) this.p.cutter.applyCut(cut);
    this.applyDrops(drops);
  }

  private applyDrops(drops: DropResult[]): void {
    if (drops.length === 0) return;
    const { log, cursors, logger } = this.p;
    let count = 0;
    const bySpot = new Map<string, number>();
    for (const d of drops) {
      count += d.count;
      for (const [spot, id] of d.bySpot) bySpot.set(spot, Math.max(id, bySpot.get(spot) ?? 0));
    }
    this.droppedEver += count;
    this.lastDrop = this.p.now();
    log.removed(count);
    log.index.goneBelow(drops[drops.length - 1]!.lastId + 1);
    // An upstream cannot forward what is gone: its cursor moves past the dropped events.
    for (const upstream of cursors.upstreams) {
      for (const [spot, id] of bySpot) cursors.advance(upstream, spot, id);
    }
    logger.warn(
      {
        dropped: count,
        firstId: drops[0]!.firstId,
        lastId: drops[drops.length - 1]!.lastId,
        droppedTotal: this.dropped,
        spots: bySpot.size,
      },
      `store: buffer over its cap of ${Math.round(this.p.budget.maxBytes / 1048576)} MiB: dropped the ${count} oldest events (ids ${drops[0]!.firstId}..${drops[drops.length - 1]!.lastId}), ${this.dropped} dropped in total`,
    );
    this.p.requestFlush();
  }
}
