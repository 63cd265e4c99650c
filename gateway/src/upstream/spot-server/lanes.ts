// The per-spot window of the spot-server upstream (docs/chaining.md, "Window"): one post in flight per
// spot, the spots with something to send waiting their turn in arrival order, and a spot the server
// refused for good waiting on its own backoff while the others go on.
import { Backoff } from '../backoff.js';
import type { Encoding } from '../../protocol/index.js';

export type LaneState = 'idle' | 'queued' | 'posting' | 'committing' | 'held';

export interface Lane {
  readonly spot: string;
  state: LaneState;
  /** Newest stored id of the spot the upstream was told of. */
  lastId: number;
  /** A post without events is wanted (commands may wait at the server). */
  pollWanted: boolean;
  /** When the last post of the spot started (ms since the epoch), 0 for never. */
  lastPostAt: number;
  /** The encoding of the spot's last events sent (a post without events uses it). */
  encoding: Encoding;
  /** Only while the server refuses the spot's posts for good (4xx other than auth and rate limits). */
  backoff: Backoff | null;
  heldReason: string | null;
}

export class Lanes {
  private readonly lanes = new Map<string, Lane>();
  /** Lanes waiting for a post slot, in the order they became ready (a Set keeps insertion order). */
  private readonly ready = new Set<Lane>();
  private held = 0;

  lane(spot: string): Lane {
    let lane = this.lanes.get(spot);
    if (!lane) {
      lane = { spot, state: 'idle', lastId: 0, pollWanted: false, lastPostAt: 0, encoding: 'json', backoff: null, heldReason: null };
      this.lanes.set(spot, lane);
    }
    return lane;
  }

  /** Waits for a slot, unless it already waits, posts or is held. */
  enqueue(lane: Lane): void {
    if (lane.state !== 'idle') return;
    lane.state = 'queued';
    this.ready.add(lane);
  }

  /** The lane whose turn it is, taken off the queue (its state is the caller's to set). */
  next(): Lane | null {
    for (const lane of this.ready) {
      this.ready.delete(lane);
      return lane;
    }
    return null;
  }

  /** A lane taken by next() that could not post now goes back to the end of the queue. */
  requeue(lane: Lane): void {
    lane.state = 'queued';
    this.ready.add(lane);
  }

  hold(lane: Lane, reason: string): void {
    if (lane.state !== 'held') this.held++;
    lane.state = 'held';
    lane.heldReason = reason;
    lane.backoff ??= new Backoff();
  }

  /** A held lane's backoff ran out: it tries again. */
  release(lane: Lane): void {
    if (lane.state === 'held') this.held--;
    lane.state = 'idle';
    this.enqueue(lane);
  }

  /** The server took a post of the spot: its backoff starts from the minimum again. */
  succeeded(lane: Lane): void {
    lane.backoff = null;
    lane.heldReason = null;
  }

  /**
   * Forgets the lanes with nothing to do (idle, no poll wanted, no refusal backoff running) that
   * `done` says hold nothing worth keeping; returns how many. A spot heard from again gets a new lane.
   */
  releaseIdle(done: (lane: Lane) => boolean): number {
    let released = 0;
    for (const [spot, lane] of this.lanes) {
      if (lane.state !== 'idle' || lane.pollWanted || lane.backoff !== null || !done(lane)) continue;
      this.lanes.delete(spot);
      released++;
    }
    return released;
  }

  get queued(): number {
    return this.ready.size;
  }

  /** Spots whose posts the server refuses for good now. */
  get heldSpots(): number {
    return this.held;
  }

  get size(): number {
    return this.lanes.size;
  }

  clear(): void {
    this.ready.clear();
  }
}
