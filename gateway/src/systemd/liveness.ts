// What the watchdog and STATUS= say (docs/operations.md, "What the watchdog means"): whether the
// store writes and the upstream moves, from narrow functions the composition root provides.

/** A store write waiting for the disk longer than this is a hang. */
export const STORE_WAIT_LIMIT_MS = 5000;
/** A connected upstream with events waiting and no acknowledgement for this long is stuck. */
export const UPSTREAM_STALL_MS = 60_000;

export interface UpstreamSample {
  name: string;
  state: 'connected' | 'connecting' | 'disconnected';
  /** Answers from the broker, ever: acknowledgements and refusals (any increase is progress). */
  acked: number;
  /** Events waiting for this upstream; null when unknown. */
  backlog: number | null;
  inFlight: number;
  /** Without a connection since (ms since the epoch), null while connected. */
  downSinceMs: number | null;
}

export interface LivenessSources {
  now(): number;
  /** The last store write's failure, null after a success. */
  storeError(): string | null;
  /** How long store writes have waited for the disk with none completing, ms (0: none waits). */
  storeWaitingMs(): number;
  spotsOnline(): number;
  /** Events stored and not yet forwarded by the slowest of `upstreams` (none: stored). */
  backlog(upstreams: readonly UpstreamSample[]): number;
  /** Each configured upstream's view (none: empty); read once per check, each read asks every forwarder its status. */
  upstreams(): UpstreamSample[];
}

export interface LivenessLimits {
  storeWaitLimitMs?: number;
  upstreamStallMs?: number;
}

export class Liveness {
  private readonly storeWaitLimitMs: number;
  private readonly upstreamStallMs: number;
  /** Per upstream: the acknowledgements seen last and when they last moved. */
  private readonly progress = new Map<string, { acked: number; at: number }>();

  constructor(
    private readonly s: LivenessSources,
    limits: LivenessLimits = {},
  ) {
    this.storeWaitLimitMs = limits.storeWaitLimitMs ?? STORE_WAIT_LIMIT_MS;
    this.upstreamStallMs = limits.upstreamStallMs ?? UPSTREAM_STALL_MS;
  }

  /** The first reason the gateway is not well, or null: the watchdog is fed only on null. */
  fault(): string | null {
    // Both run at every check: the upstream's progress is followed even while the store fails.
    const store = this.storeFault();
    const upstream = this.upstreamFault();
    return store ?? upstream;
  }

  storeFault(): string | null {
    const waiting = this.s.storeWaitingMs();
    // Only a hang: a store that fails (disk full, read-only) answers 503 and recovers by itself, which a restart would not help.
    return waiting > this.storeWaitLimitMs ? `store: a write has waited ${seconds(waiting)} s for the disk` : null;
  }

  /**
   * Progress is any new acknowledgement; connecting, backing off and having nothing to send are legitimate
   * waits. Every upstream is followed at every check; the first stalled one is the fault.
   */
  upstreamFault(): string | null {
    const now = this.s.now();
    let fault: string | null = null;
    for (const u of this.s.upstreams()) {
      const seen = this.progress.get(u.name) ?? { acked: -1, at: now };
      const idle = (u.backlog ?? 0) === 0 && u.inFlight === 0;
      if (u.state !== 'connected' || u.acked !== seen.acked || idle) {
        this.progress.set(u.name, { acked: u.acked, at: now });
        continue;
      }
      this.progress.set(u.name, seen);
      const since = now - seen.at;
      if (since >= this.upstreamStallMs) fault ??= `${u.name}: connected with ${u.backlog ?? 'some'} events waiting and no acknowledgement for ${seconds(since)} s`;
    }
    return fault;
  }

  /** One line for STATUS=: spots online, backlog, upstream state, and a store failure if any. */
  summary(): string {
    const spots = this.s.spotsOnline();
    const upstreams = this.s.upstreams();
    const parts = [`${spots} spot${spots === 1 ? '' : 's'} online`, `backlog ${this.s.backlog(upstreams)} events`];
    if (upstreams.length === 0) parts.push('no upstream');
    for (const u of upstreams) {
      if (u.state === 'connected' || u.downSinceMs === null) parts.push(`${u.name} ${u.state}`);
      else parts.push(`${u.name} ${u.state} (down ${seconds(this.s.now() - u.downSinceMs)} s)`);
    }
    const error = this.s.storeError();
    if (error !== null) parts.push(`store cannot write: ${error}`);
    return parts.join('; ');
  }
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
