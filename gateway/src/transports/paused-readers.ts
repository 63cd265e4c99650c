// Spot streams whose reading paused for back-pressure (posts and WebSockets), looked at again together.
import type { SpotPost } from '../ingest/index.js';

/** A stream of a spot's bytes that can stop being read for a while. */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
  readonly destroyed: boolean;
}

/** Defaults of the bounds below which reading goes on (ingest-route.ts explains them). */
export const MAX_PENDING_APPENDS = 16;
export const MAX_IN_FLIGHT_EVENTS = 2000;

/**
 * Whether a stream must stop reading: it is still decoding a large piece over several turns, or it
 * or the gateway as a whole holds more appends / events not yet committed than the bounds.
 */
export function overloadBound(flow: { inFlightEvents: number }, maxPending = MAX_PENDING_APPENDS, maxInFlight = MAX_IN_FLIGHT_EVENTS): (post: SpotPost) => boolean {
  return (post) => post.decoding || post.pendingAppends > maxPending || flow.inFlightEvents > maxInFlight;
}

/** How often paused posts are looked at again. */
const RESUME_CHECK_MS = 2;

/**
 * Posts and WebSockets whose reading paused for back-pressure, looked at again together by one
 * timer (instead of a timer per paused post: up to 200 timers every 2 ms with 200 spots held
 * back). One resumes once it has decoded what it received and neither it nor the gateway as a
 * whole is over its bound of events not yet committed.
 */
export class PausedPosts {
  private readonly waiting = new Map<Pausable, { post: SpotPost; touch: () => void }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly overloaded: (post: SpotPost) => boolean) {}

  add(reader: Pausable, post: SpotPost, touch: () => void): void {
    reader.pause();
    this.waiting.set(reader, { post, touch });
    this.timer ??= setTimeout(() => this.check(), RESUME_CHECK_MS);
  }

  private check(): void {
    this.timer = null;
    for (const [reader, { post, touch }] of this.waiting) {
      if (reader.destroyed) {
        this.waiting.delete(reader);
        continue;
      }
      touch();
      if (this.overloaded(post)) continue;
      this.waiting.delete(reader);
      reader.resume();
    }
    if (this.waiting.size > 0) this.timer = setTimeout(() => this.check(), RESUME_CHECK_MS);
  }
}
