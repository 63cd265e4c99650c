// The events to publish next: round robin over spots (FairScheduler) with a small read-ahead per spot,
// so a window slot freed by one PUBACK can be refilled without a store read per event.
import { FairScheduler } from './scheduler.js';
import type { ForwardEvent, ForwardSource } from './source.js';

export class SpotFeed {
  private readonly scheduler = new FairScheduler();
  /** Read but not yet published; `full`: the read filled its batch, so the store may hold more. */
  private readonly buffers = new Map<string, { events: ForwardEvent[]; full: boolean }>();

  constructor(
    private readonly source: ForwardSource,
    private readonly upstream: string,
    /** Events read at once, and published at most, per spot per turn. */
    private readonly batch: number,
  ) {}

  /** After (re)connecting: start again right after every cursor. */
  reset(): void {
    this.buffers.clear();
    this.scheduler.reset(this.source.pendingSpots(this.upstream));
  }

  appended(spot: string, lastId: number): void {
    this.scheduler.appended(spot, lastId, (s) => this.source.cursor(this.upstream, s));
  }

  /**
   * Hands events to `send` in per-spot order, round robin, using at most `room` MQTT messages
   * (an event with a PB form takes two). `send` returns false to stop (the connection went away).
   */
  take(room: number, send: (event: ForwardEvent) => boolean): void {
    while (room > 0) {
      const turn = this.scheduler.next();
      if (!turn) return;
      const { spot } = turn;
      let entry = this.buffers.get(spot);
      let readPos = turn.afterId;
      const readNow = !entry;
      if (!entry) {
        let events: ForwardEvent[];
        try {
          events = this.source.readSpot(this.upstream, spot, turn.afterId, this.batch);
        } catch (err) {
          this.scheduler.turnDone(spot, turn.afterId, true);
          throw err;
        }
        if (events.length > 0) readPos = events[events.length - 1]!.id;
        entry = { events, full: events.length === this.batch };
        this.buffers.set(spot, entry);
      }
      const buffer = entry.events;
      let taken = 0;
      let stop = false;
      while (taken < buffer.length && taken < this.batch) {
        const parts = buffer[taken]!.pb ? 2 : 1;
        if (parts > room || !send(buffer[taken]!)) {
          stop = true;
          break;
        }
        room -= parts;
        taken++;
      }
      buffer.splice(0, taken);
      if (buffer.length === 0) this.buffers.delete(spot);
      this.scheduler.turnDone(spot, readPos, entry.full || buffer.length > 0, readNow);
      if (stop) return;
    }
  }
}
