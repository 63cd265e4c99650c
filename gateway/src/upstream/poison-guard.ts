// What the forwarder does with PoisonWatch's verdicts: sends the suspect alone, keeps its strikes in
// the store, quarantines it there, and says so in the log (docs/mqtt.md, "Poison events").
import type { PoisonSuspect, QuarantineBook } from '../store/types.js';
import { describe, type SuspectStatus, type UpstreamLogger } from './options.js';
import { PoisonWatch, type EventRef } from './poison-watch.js';
import type { ForwardEvent, ForwardSource } from './source.js';

export const DEFAULT_POISON_AFTER_DROPS = 3;

export interface PoisonGuardOptions {
  source: ForwardSource;
  upstream: string;
  /** Strikes that quarantine an event. */
  limit: number;
  logger: UpstreamLogger;
  now: () => number;
}

export class PoisonGuard {
  private readonly book: QuarantineBook | undefined;
  private readonly watch: PoisonWatch;
  /** The suspect's row in poison_suspects, once it has a strike. */
  private saved: PoisonSuspect | null = null;
  private since = 0;
  private withheldSaid = false;
  /** This connection's SUBACK came: the broker took what the connection began with. */
  private setupAcked = false;

  constructor(private readonly o: PoisonGuardOptions) {
    // Without a place to keep poison events (a source that is not the store) nothing is watched.
    this.book = o.source.quarantine;
    try {
      this.saved = this.book?.suspect(o.upstream) ?? null;
    } catch (err) {
      o.logger.warn({}, `mqtt: reading the suspected poison event failed: ${describe(err)}; strikes start again at 0`);
    }
    this.since = this.saved?.since ?? 0;
    const s = this.saved;
    this.watch = new PoisonWatch(o.limit, s ? { spot: s.spot, id: s.eventId, strikes: s.strikes } : null);
  }

  connected(): void {
    this.setupAcked = false;
    this.watch.connected();
  }

  /** The SUBACK of the command subscription came (a broker refusing it may drop the connection instead). */
  subscribed(): void {
    this.setupAcked = true;
  }

  /** The event suspected now; `withheld`: at the limit but not quarantined, the broker takes no event at all. */
  get suspect(): SuspectStatus | null {
    const s = this.watch.suspect;
    return s ? { spot: s.spot, eventId: s.id, strikes: s.strikes, withheld: s.strikes >= this.o.limit } : null;
  }

  /** Events of this upstream in quarantine now. */
  get quarantined(): number {
    return this.book?.count(this.o.upstream) ?? 0;
  }

  /** A suspect is to go out alone, or is out: nothing but the connection's "online" may join it. */
  get probing(): boolean {
    return this.book !== undefined && (this.watch.probeInFlight || this.watch.probeDue() !== null);
  }

  /**
   * Before the replay of a new connection: sends the suspect alone through `send` (false: the connection
   * broke). True while everything else must wait for its PUBACK.
   */
  holdForProbe(send: (event: ForwardEvent) => boolean): boolean {
    if (!this.book) return false;
    if (this.watch.probeInFlight) return true;
    const due = this.watch.probeDue();
    if (!due) return false;
    const { source, upstream } = this.o;
    const next = source.readSpot(upstream, due.spot, source.cursor(upstream, due.spot), 1)[0];
    if (!next || next.id !== due.id) {
      this.o.logger.info({ spot: due.spot, eventId: due.id }, `mqtt: spot ${due.spot}: suspected event ${due.id} is no longer waiting to be sent; not suspected any more`);
      this.watch.forget();
      this.save(null);
      return false;
    }
    // A loss inside send() finds the probe not sent yet: no strike for a write that never left.
    if (send(next)) this.watch.probeSent();
    return true;
  }

  /** An event was acknowledged or refused. */
  acked(spot: string, id: number): void {
    if (!this.watch.acked(spot, id)) return;
    this.withheldSaid = false;
    if (this.saved) this.o.logger.info({ spot, eventId: id }, `mqtt: spot ${spot}: suspected event ${id} was acknowledged alone; not a poison event`);
    this.save(null);
  }

  /**
   * The broker dropped the connection: `oldest` is the event sent first among those awaiting a PUBACK,
   * `reason` why it went, `othersAcked` whether every message that is not an event ('online', spot states) was acked.
   */
  lost(oldest: EventRef | null, reason: string, othersAcked: boolean): void {
    if (!this.book) return;
    // Only a probe alone after everything else was acknowledged can take the blame.
    const verdict = this.watch.lost(oldest, othersAcked && this.setupAcked);
    if (verdict.kind === 'nothing') return;
    const { spot, id } = verdict.event;
    const { logger, upstream, limit } = this.o;
    if (verdict.kind === 'suspect') {
      if (verdict.strikes === 0) {
        this.since = this.o.now();
        this.save(null);
        logger.info({ spot, eventId: id }, `mqtt: spot ${spot}: event ${id} was the oldest awaiting a PUBACK when the connection was lost; it goes out alone first`);
      }
      return;
    }
    this.save({ spot, eventId: id, strikes: verdict.strikes, since: this.since });
    const times = verdict.strikes === 1 ? 'once' : `${verdict.strikes} times`;
    const drops = `the broker dropped the connection ${times} with this event alone in flight (last: ${reason})`;
    if (verdict.kind === 'strike') {
      logger.warn({ spot, eventId: id, strikes: verdict.strikes }, `mqtt: spot ${spot}: event ${id}: ${drops}; quarantined at ${limit}`);
      return;
    }
    if (verdict.kind === 'withheld') {
      if (!this.withheldSaid) {
        logger.error(
          { spot, eventId: id, strikes: verdict.strikes },
          `mqtt: spot ${spot}: event ${id}: ${drops}, but no event was acknowledged since the last quarantine: the broker takes no event at all; kept in the buffer and sent alone again at each connection`,
        );
      }
      this.withheldSaid = true;
      return;
    }
    try {
      this.book.add(upstream, spot, id, drops, verdict.strikes);
    } catch (err) {
      logger.error({ spot, eventId: id }, `mqtt: spot ${spot}: quarantining event ${id} failed: ${describe(err)}; it stays in the buffer and goes out alone again`);
      return;
    }
    this.watch.quarantined();
    this.withheldSaid = false;
    this.save(null);
    logger.error(
      { spot, eventId: id, strikes: verdict.strikes, upstream },
      `mqtt: spot ${spot}: event ${id} quarantined: ${drops}; kept (GET /api/quarantine), forwarding goes on with the spot's next event`,
    );
  }

  private save(suspect: PoisonSuspect | null): void {
    if (suspect === null && this.saved === null) return;
    try {
      this.book?.saveSuspect(this.o.upstream, suspect);
      this.saved = suspect;
    } catch (err) {
      this.o.logger.warn({}, `mqtt: saving the suspected poison event failed: ${describe(err)}; its strikes are kept in memory`);
    }
  }
}
