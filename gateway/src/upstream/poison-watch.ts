// Which event makes the broker drop the connection: the rules of docs/mqtt.md "Poison events", without
// I/O. The oldest event in flight at a loss is suspected; it then goes out alone, and each loss
// while it is alone is a strike; at the limit it is to be quarantined.

export interface EventRef {
  spot: string;
  id: number;
}

export type LossVerdict =
  /** Nothing was in flight: the loss names no event. */
  | { kind: 'nothing' }
  /** The oldest event in flight is suspected now (strikes 0, or unchanged if it already was). */
  | { kind: 'suspect'; event: EventRef; strikes: number }
  /** Lost with the suspect alone in flight, below the limit. */
  | { kind: 'strike'; event: EventRef; strikes: number }
  /** At the limit: move it aside. */
  | { kind: 'quarantine'; event: EventRef; strikes: number }
  /** At the limit, but no event was acknowledged since the last quarantine: the broker takes nothing. */
  | { kind: 'withheld'; event: EventRef; strikes: number };

type Phase = 'none' | 'due' | 'sent';

export class PoisonWatch {
  private current: { spot: string; id: number; strikes: number } | null;
  /** On this connection: no probe, probe not sent yet, probe awaiting its PUBACK. */
  private phase: Phase = 'none';
  private ackedSinceQuarantine = true;

  constructor(
    /** Strikes that quarantine an event (mqtt.poison_after_drops). */
    private readonly limit: number,
    saved: { spot: string; id: number; strikes: number } | null = null,
  ) {
    if (!(limit >= 1)) throw new RangeError(`poison: the strike limit must be at least 1, got ${limit}`);
    this.current = saved ? { ...saved } : null;
  }

  get suspect(): Readonly<{ spot: string; id: number; strikes: number }> | null {
    return this.current;
  }

  /** A new connection: the suspect, if any, goes out alone before anything else. */
  connected(): void {
    this.phase = this.current ? 'due' : 'none';
  }

  /** The event to send alone now, or null. */
  probeDue(): EventRef | null {
    return this.phase === 'due' ? this.current : null;
  }

  probeSent(): void {
    if (this.phase === 'due') this.phase = 'sent';
  }

  /** The probe is in flight: nothing else may be sent. */
  get probeInFlight(): boolean {
    return this.phase === 'sent';
  }

  /** An event was acknowledged (or refused with a reason code): true when that cleared the suspect. */
  acked(spot: string, id: number): boolean {
    this.ackedSinceQuarantine = true;
    const c = this.current;
    if (!c || c.spot !== spot || c.id !== id) return false;
    this.current = null;
    this.phase = 'none';
    return true;
  }

  /** The suspect is no longer its spot's next event (dropped by the size cap, say). */
  forget(): void {
    this.current = null;
    this.phase = 'none';
  }

  /** The caller moved the suspect aside. */
  quarantined(): void {
    this.current = null;
    this.phase = 'none';
    this.ackedSinceQuarantine = false;
  }

  /**
   * The connection is gone; `oldest` is the event sent first among those still awaiting a PUBACK.
   * `settled`: everything else the connection sent (subscription, state messages) was acknowledged.
   */
  lost(oldest: EventRef | null, settled = true): LossVerdict {
    const alone = this.phase === 'sent' && settled;
    this.phase = 'none';
    if (!oldest) return { kind: 'nothing' };
    const c = this.current;
    if (c && c.spot === oldest.spot && c.id === oldest.id) {
      if (!alone) return { kind: 'suspect', event: oldest, strikes: c.strikes };
      c.strikes++;
      if (c.strikes < this.limit) return { kind: 'strike', event: oldest, strikes: c.strikes };
      return { kind: this.ackedSinceQuarantine ? 'quarantine' : 'withheld', event: oldest, strikes: c.strikes };
    }
    this.current = { spot: oldest.spot, id: oldest.id, strikes: 0 };
    return { kind: 'suspect', event: oldest, strikes: 0 };
  }
}
