// Since when an upstream with a backlog has acknowledged nothing while it had connections
// (docs/mqtt.md, "Stalled upstream"). Quick reconnects do not restart the count, so a broker
// that drops every connection before taking anything shows as stalled; an outage long enough
// to be reported on its own does.

export class StallWatch {
  /** Start of the current stretch without an ack: the last ack, or the CONNACK after an outage. */
  private since: number;
  /** When the connection went down; null while up. */
  private downAt: number | null;
  private connectedOnce = false;
  /** When a status read first saw the backlog (a backlog only shrinks through acks, so none went unseen since). */
  private backlogSince: number | null = null;
  /** CONNACKs since the last ack, the first one not counted. */
  private quickReconnects = 0;

  constructor(
    private readonly now: () => number,
    /** A disconnection this long is an outage (reported as such); the count starts again after it. */
    private readonly outageMs: number,
  ) {
    this.since = now();
    this.downAt = this.since;
  }

  connected(): void {
    const t = this.now();
    if (!this.connectedOnce || this.downAt === null || t - this.downAt >= this.outageMs) {
      this.since = t;
      this.quickReconnects = 0;
    } else {
      this.quickReconnects++;
    }
    this.connectedOnce = true;
    this.downAt = null;
  }

  disconnected(): void {
    this.downAt ??= this.now();
  }

  /** An event was acknowledged (or refused: the cursor moved either way). */
  acked(): void {
    this.since = this.now();
    this.quickReconnects = 0;
  }

  /** Reconnects since the last ack (none while one connection holds). */
  get reconnects(): number {
    return this.quickReconnects;
  }

  /**
   * At a status read: the time since which nothing was acknowledged while there is a backlog; null
   * without a backlog, before the first connection, and during an outage.
   */
  noAckSince(backlog: boolean): number | null {
    if (!backlog) {
      this.backlogSince = null;
      return null;
    }
    const t = this.now();
    this.backlogSince ??= t;
    if (!this.connectedOnce || (this.downAt !== null && t - this.downAt >= this.outageMs)) return null;
    return Math.max(this.since, this.backlogSince);
  }
}
