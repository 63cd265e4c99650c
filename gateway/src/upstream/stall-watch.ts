// Since when a connected upstream with a backlog has acknowledged nothing (docs/mqtt.md, "Stalled upstream").

export class StallWatch {
  /** The last PUBACK or CONNACK. */
  private progressAt: number;
  /** When a status read first saw the backlog (a backlog only shrinks through acks, so none went unseen since). */
  private backlogSince: number | null = null;

  constructor(private readonly now: () => number) {
    this.progressAt = now();
  }

  connected(): void {
    this.progressAt = this.now();
  }

  /** An event was acknowledged (or refused: the cursor moved either way). */
  acked(): void {
    this.progressAt = this.now();
  }

  /** At a status read: the time since which nothing was acknowledged, or null when not connected or without a backlog. */
  noAckSince(connected: boolean, backlog: boolean): number | null {
    if (!connected || !backlog) {
      this.backlogSince = null;
      return null;
    }
    this.backlogSince ??= this.now();
    return Math.max(this.progressAt, this.backlogSince);
  }
}
