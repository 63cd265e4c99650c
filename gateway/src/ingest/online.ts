// Which spots are online: heard from within offline_after; changes go to a listener (MQTT spot state).

export type OnlineState = 'connected' | 'disconnected';

export interface OnlineTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface OnlineTrackerOptions {
  offlineAfterMs: number;
  now: () => number;
  onChange: (serial: string, state: OnlineState) => void;
  timers?: OnlineTimers;
}

const realTimers: OnlineTimers = {
  setInterval: (fn, ms) => {
    const handle = setInterval(fn, ms);
    handle.unref();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export class OnlineTracker {
  private readonly lastHeard = new Map<string, number>();
  /** Spots holding a connection open (WebSocket): online however long they stay silent. */
  private readonly held = new Map<string, number>();
  private readonly timers: OnlineTimers;
  private sweepHandle: unknown = null;

  constructor(private readonly opts: OnlineTrackerOptions) {
    this.timers = opts.timers ?? realTimers;
  }

  start(): void {
    if (this.sweepHandle !== null) return;
    // Sweeping a few times per offline period keeps the detection within ~25% of it.
    const every = Math.max(50, Math.min(1000, Math.floor(this.opts.offlineAfterMs / 4)));
    this.sweepHandle = this.timers.setInterval(() => this.sweep(), every);
  }

  stop(): void {
    if (this.sweepHandle !== null) this.timers.clearInterval(this.sweepHandle);
    this.sweepHandle = null;
  }

  /** The spot sent something now. */
  heard(serial: string): void {
    const wasOnline = this.lastHeard.has(serial);
    this.lastHeard.set(serial, this.opts.now());
    if (!wasOnline) this.notify(serial, 'connected');
  }

  /** The spot holds a connection open: online until release(), then counted from that moment. */
  hold(serial: string): void {
    this.held.set(serial, (this.held.get(serial) ?? 0) + 1);
    this.heard(serial);
  }

  release(serial: string): void {
    const n = (this.held.get(serial) ?? 1) - 1;
    if (n > 0) this.held.set(serial, n);
    else this.held.delete(serial);
    this.heard(serial);
  }

  isOnline(serial: string): boolean {
    return this.lastHeard.has(serial);
  }

  onlineCount(): number {
    return this.lastHeard.size;
  }

  sweep(): void {
    const cutoff = this.opts.now() - this.opts.offlineAfterMs;
    for (const [serial, at] of this.lastHeard) {
      if (at > cutoff || this.held.has(serial)) continue;
      this.lastHeard.delete(serial);
      this.notify(serial, 'disconnected');
    }
  }

  private notify(serial: string, state: OnlineState): void {
    try {
      this.opts.onChange(serial, state);
    } catch {
      // A failing listener must not stop tracking; the listener logs its own trouble.
    }
  }
}
