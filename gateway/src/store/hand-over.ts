// What the upstreams are told after commits (onAppended): every committed id, none skipped. A
// commit whose fsync failed, or rows a reopen finds that no commit reported, are in the database
// all the same: their spots are owed a hand-over, made at the next successful fsync without the
// events (the upstream reads them back). docs/storage.md, "A failed fsync".
import type { Acknowledgement } from './durable-acks.js';
import type { StoredEvent } from './types.js';

/** `events` undefined: read the spot's events back from the store (a live tail would have a gap). */
export type AppendedListener = (spot: string, lastId: number, events?: readonly StoredEvent[]) => void;

export class HandOver {
  /** Spots with committed ids never handed over, and the highest such id. */
  private readonly owed = new Map<string, number>();
  /** An fsync that settles what is owed is on its way. */
  private retrying = false;

  constructor(
    /** Upstream reads stop at the event log's `acknowledgedId`: raised to what is handed over. */
    private readonly log: { acknowledge(id: number): void },
    private readonly listener: AppendedListener,
  ) {}

  /** Something is owed and no fsync is on its way to settle it: the committer syncs for it. */
  get needsSync(): boolean {
    return this.owed.size > 0 && !this.retrying;
  }

  /** A commit may go upstream (its fsync is done, or after-commit): what is owed first, then its own events. */
  deliver(lastIdBySpot: ReadonlyMap<string, number>, events: ReadonlyMap<string, readonly StoredEvent[]>): void {
    this.deliverOwed();
    for (const id of lastIdBySpot.values()) this.log.acknowledge(id);
    for (const [spot, lastId] of lastIdBySpot) this.listener(spot, lastId, events.get(spot) ?? []);
  }

  /** The fsync of a commit not handed over failed: its rows stay, so its spots are owed. */
  owe(lastIdBySpot: ReadonlyMap<string, number>): void {
    for (const [spot, id] of lastIdBySpot) this.owed.set(spot, Math.max(id, this.owed.get(spot) ?? 0));
  }

  /** After a reopen: spots whose last id grew were written by a COMMIT that reported failure. */
  reloaded(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): void {
    for (const [spot, id] of after) if (id > (before.get(spot) ?? 0)) this.owed.set(spot, Math.max(id, this.owed.get(spot) ?? 0));
  }

  /** The acknowledgement of an fsync run only to settle what is owed (no commit of events asked for one). */
  retry(): Acknowledgement {
    this.retrying = true;
    return {
      ack: () => {
        this.retrying = false;
        this.deliverOwed();
      },
      fail: () => void (this.retrying = false),
    };
  }

  private deliverOwed(): void {
    if (this.owed.size === 0) return;
    const owed = [...this.owed];
    this.owed.clear();
    for (const [, id] of owed) this.log.acknowledge(id);
    for (const [spot, lastId] of owed) this.listener(spot, lastId, undefined);
  }
}
