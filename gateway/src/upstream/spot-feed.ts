// The events to publish next: round robin over spots (FairScheduler) with a small read-ahead per spot,
// so a window slot freed by one PUBACK can be refilled without a store read per event. A spot that
// has caught up is fed from the events the store hands over at each commit (its live tail), so live
// forwarding reads nothing back from SQLite.
import { FairScheduler } from './scheduler.js';
import type { ForwardEvent, ForwardSource } from './source.js';

/** Every event of a spot with id above `base`, in order, as handed over by the store. */
interface LiveTail {
  base: number;
  events: ForwardEvent[];
}

/** Events held in live tails over all spots; a spot whose tail would pass it reads from the store. */
export const DEFAULT_TAIL_LIMIT = 5_000;
/**
 * Spots idle between two looks (every this many appends) are dropped from the scheduler and the
 * tails once all they sent is acknowledged: memory follows the spots heard from lately, not every
 * spot seen on this connection (docs/storage.md, "Cost per spot").
 */
export const RELEASE_EVERY_APPENDS = 2_000;

export class SpotFeed {
  private readonly scheduler = new FairScheduler();
  /** Read but not yet published; `full`: the read filled its batch, so the store may hold more. */
  private readonly buffers = new Map<string, { events: ForwardEvent[]; full: boolean }>();
  private readonly tails = new Map<string, LiveTail>();
  private tailEvents = 0;
  /** Spots appended to or given a turn since the last look for idle ones. */
  private readonly active = new Set<string>();
  private appendsSinceRelease = 0;

  constructor(
    private readonly source: ForwardSource,
    private readonly upstream: string,
    /** Events read at once, and published at most, per spot per turn. */
    private readonly batch: number,
    private readonly tailLimit = DEFAULT_TAIL_LIMIT,
    private readonly releaseEvery = RELEASE_EVERY_APPENDS,
  ) {}

  /** After (re)connecting: start again right after every cursor. */
  reset(): void {
    this.buffers.clear();
    this.tails.clear();
    this.tailEvents = 0;
    this.active.clear();
    this.scheduler.reset(this.source.pendingSpots(this.upstream));
  }

  /** Spots with state here (scheduler progress), for tests and status. */
  get tracked(): number {
    return this.scheduler.trackedCount;
  }

  /**
   * Forgets the spots not appended to nor given a turn since the previous call, holding nothing
   * unsent, with everything sent acknowledged. O(spots tracked), once per `releaseEvery` appends.
   */
  releaseIdle(): number {
    let released = 0;
    for (const spot of this.scheduler.tracked()) {
      if (this.active.has(spot) || this.buffers.has(spot)) continue;
      const tail = this.tails.get(spot);
      if (tail && tail.events.length > 0) continue;
      if (!this.scheduler.release(spot, this.source.cursor(this.upstream, spot))) continue;
      if (tail) this.dropTail(spot, tail);
      released++;
    }
    this.active.clear();
    this.appendsSinceRelease = 0;
    return released;
  }

  /** Events held in live tails (for tests and status). */
  get tailed(): number {
    return this.tailEvents;
  }

  appended(spot: string, lastId: number, events?: readonly ForwardEvent[]): void {
    if (++this.appendsSinceRelease >= this.releaseEvery) this.releaseIdle();
    this.active.add(spot);
    this.scheduler.appended(spot, lastId, (s) => this.source.cursor(this.upstream, s));
    const tail = this.tails.get(spot);
    if (!tail) return;
    // Without the events (or over the limit) the tail would have a gap: the spot reads from the store.
    if (!events || this.tailEvents + events.length > this.tailLimit) {
      this.dropTail(spot, tail);
      return;
    }
    for (const e of events) tail.events.push(e);
    this.tailEvents += events.length;
  }

  /**
   * Hands events to `send` in per-spot order, round robin, using at most `room` MQTT messages
   * (an event with a PB form takes `pbParts`: two, or one where a window of one sends its messages one
   * after the other). `send` returns false to stop (the connection went away).
   */
  take(room: number, send: (event: ForwardEvent) => boolean, pbParts = 2): void {
    while (room > 0) {
      const turn = this.scheduler.next();
      if (!turn) return;
      const { spot } = turn;
      this.active.add(spot);
      let entry = this.buffers.get(spot);
      let readPos = turn.afterId;
      const readNow = !entry;
      if (!entry) {
        let read: { events: ForwardEvent[]; full: boolean };
        try {
          read = this.read(spot, turn.afterId);
        } catch (err) {
          this.scheduler.turnDone(spot, turn.afterId, true);
          throw err;
        }
        if (read.events.length > 0) readPos = read.events[read.events.length - 1]!.id;
        entry = read;
        this.buffers.set(spot, entry);
      }
      const buffer = entry.events;
      let taken = 0;
      let stop = false;
      while (taken < buffer.length && taken < this.batch) {
        const parts = buffer[taken]!.pb ? pbParts : 1;
        if (parts > room || !send(buffer[taken]!)) {
          stop = true;
          break;
        }
        room -= parts;
        taken++;
      }
      // All taken (the live case): no splice, whose removed-elements array is garbage per turn.
      if (taken === buffer.length) buffer.length = 0;
      else buffer.splice(0, taken);
      if (buffer.length === 0) this.buffers.delete(spot);
      this.scheduler.turnDone(spot, readPos, entry.full || buffer.length > 0, readNow);
      if (stop) return;
    }
  }

  /** Up to one batch after `afterId`: from the live tail when it covers it, else from the store. */
  private read(spot: string, afterId: number): { events: ForwardEvent[]; full: boolean } {
    const tail = this.tails.get(spot);
    if (tail && tail.base <= afterId) {
      let skip = 0;
      while (skip < tail.events.length && tail.events[skip]!.id <= afterId) skip++;
      let events: ForwardEvent[];
      if (skip === 0 && tail.events.length <= this.batch) {
        // The whole tail in one turn (the live case): hand the array over instead of copying it.
        events = tail.events;
        tail.events = [];
      } else {
        events = tail.events.slice(skip, skip + this.batch);
        tail.events.splice(0, skip + events.length);
      }
      const removed = skip + events.length;
      this.tailEvents -= removed;
      tail.base = events.length > 0 ? events[events.length - 1]!.id : Math.max(tail.base, afterId);
      return { events, full: tail.events.length > 0 };
    }
    if (tail) this.dropTail(spot, tail);
    const events = this.source.readSpot(this.upstream, spot, afterId, this.batch);
    const full = events.length === this.batch;
    // A short read: the spot has caught up; what the store commits for it next comes with the commit.
    if (!full && this.tailEvents < this.tailLimit) {
      this.tails.set(spot, { base: events.length > 0 ? events[events.length - 1]!.id : afterId, events: [] });
    }
    return { events, full };
  }

  private dropTail(spot: string, tail: LiveTail): void {
    this.tailEvents -= tail.events.length;
    this.tails.delete(spot);
  }
}
