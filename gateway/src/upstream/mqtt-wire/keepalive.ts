// MQTT keepalive from the client's side: a tick every half keepalive sends a PINGREQ when the
// client wrote nothing, or heard nothing, since the last tick (so no gap between packets sent
// reaches the keepalive: MQTT 5 3.1.2.10); a PINGREQ answered by nothing at all until the next
// tick means the connection is dead.

export interface KeepaliveHooks {
  ping(): void;
  dead(reason: string): void;
}

export class Keepalive {
  private timer: NodeJS.Timeout | null = null;
  private wrote = false;
  private heard = false;
  private pingOut = false;
  private readonly tickMs: number;

  constructor(
    keepaliveSeconds: number,
    private readonly hooks: KeepaliveHooks,
  ) {
    // 0: no keepalive (MQTT 5 3.1.2.10).
    this.tickMs = keepaliveSeconds > 0 ? keepaliveSeconds * 500 : 0;
  }

  start(): void {
    if (this.timer || this.tickMs <= 0) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Something was written to the broker. */
  sent(): void {
    this.wrote = true;
  }

  /** A packet came from the broker. */
  received(): void {
    this.heard = true;
  }

  private tick(): void {
    if (this.pingOut) {
      if (!this.heard) {
        this.stop();
        this.hooks.dead(`no answer to a PINGREQ within ${this.tickMs} ms`);
        return;
      }
      this.pingOut = false;
    }
    if (!this.wrote || !this.heard) {
      this.pingOut = true;
      this.heard = false;
      this.hooks.ping();
    }
    this.wrote = false;
    this.heard = false;
  }
}
