// The spot-server upstream (docs/chaining.md): each spot's events above its cursor go to a server that
// speaks the spot protocol, one post in flight per spot, in order; the cursor moves only after the
// server's 200 and is made durable before the spot's next post; the commands in the answers are queued
// here for the spot.
import { Backoff } from '../backoff.js';
import { DeliveryTimes } from '../delivery-times.js';
import { describe, realTimers, silentLogger, type Timers, type UpstreamLogger } from '../options.js';
import { RateMeter } from '../rate.js';
import { lagOf } from '../source.js';
import { GATEWAY_INSTANCE_HEADER } from '../../ingest/headers.js';
import { PB_CONTENT_TYPE } from '../../protocol/index.js';
import { relayCommands, type RelayOutcome } from './command-relay.js';
import { Lanes, type Lane } from './lanes.js';
import { instanceTag, postBody, sameEncodingPrefix, type ChainEvent } from './post-body.js';
import type { SpotServerOptions, SpotServerStatus } from './options.js';
import type { PostAnswer } from './poster.js';

/** Statuses that say the server (not the spot's events) is the trouble: every spot waits, one post probes. */
function serverWide(status: number): boolean {
  return status === 401 || status === 403 || status === 408 || status === 429 || status >= 500;
}

export class SpotServerForwarder {
  private readonly o: SpotServerOptions;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly logger: UpstreamLogger;
  private readonly lanes = new Lanes();
  private readonly backoff: Backoff;
  private readonly rate: RateMeter;
  private readonly delivery = new DeliveryTimes();
  private readonly tag: number;
  private running = false;
  private token: string;
  private readonly stopTimeoutMs: number;
  private unsubscribe: (() => void) | null = null;
  private posting = 0;
  /** Lanes whose cursor moved, waiting for the commit that makes it durable. */
  private committing: Lane[] = [];
  private commitScheduled = false;
  private pumpScheduled = false;
  /** While down: no post until the timer, then one (the probe) until an answer is taken. */
  private gate: unknown = null;
  private probing = false;
  private state: SpotServerStatus['state'] = 'connecting';
  private downSince: number | null = null;
  private lastAckAt: number;
  private failuresSinceAck = 0;
  private idleWaiters: Array<() => void> = [];
  private published = 0;
  private acked = 0;
  private refused = 0;
  private failures = 0;
  private commandsRelayed = 0;
  private commandsRejected = 0;
  private lastError: string | null = null;
  /** When idle lanes were last released (at most once per poll period). */
  private lastReleaseAt = 0;

  constructor(options: SpotServerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? realTimers;
    this.logger = options.logger ?? silentLogger;
    this.backoff = new Backoff(options.backoff);
    this.rate = new RateMeter(this.now);
    this.tag = instanceTag(options.source.instanceId);
    this.lastAckAt = this.now();
    this.token = options.token;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 2000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.o.source.onAppended((spot, lastId) => this.appended(spot, lastId));
    for (const p of this.o.source.pendingSpots(this.o.upstreamName)) this.appended(p.spot, p.lastId);
    this.logger.info({ url: this.o.url }, `spot server: forwarding to ${this.o.url}`);
  }

  /** Waits (bounded) for the posts in flight, makes the cursors durable. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.gate !== null) this.timers.clearTimeout(this.gate);
    this.gate = null;
    this.lanes.clear();
    if (this.posting > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.stopTimeoutMs);
        this.idleWaiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
    await this.commit(true);
    this.o.close?.();
    this.logger.info({}, 'spot server: stopped');
  }

  /** spot_server.token read again (SIGHUP): the next posts carry it. */
  setToken(token: string): void {
    this.token = token;
  }

  /** A spot posted here: with nothing to send and no post for a while, a post without events fetches its commands. */
  heard(spot: string): void {
    if (!this.running) return;
    this.releaseIdleLanes();
    const lane = this.lanes.lane(spot);
    if (lane.state !== 'idle' || this.now() - lane.lastPostAt < this.o.pollAfterMs) return;
    lane.pollWanted = true;
    this.lanes.enqueue(lane);
    this.schedulePump();
  }

  status(): SpotServerStatus {
    const lagEvents = lagOf(this.o.source, this.o.upstreamName);
    return {
      state: this.state,
      downSinceMs: this.downSince,
      inFlight: this.posting,
      published: this.published,
      acked: this.acked,
      refused: this.refused,
      ratePerSec: this.rate.perSecond(),
      lagEvents,
      lastError: this.lastError,
      reconnects: this.failures,
      delivery: this.delivery.snapshot(),
      quarantined: 0,
      // Answers come, but nothing is taken (a spot refused for good, or the server busy): stalled.
      noAckSinceMs: this.downSince === null && this.failuresSinceAck > 0 && lagEvents !== 0 ? this.lastAckAt : null,
      reconnectsSinceAck: this.failuresSinceAck,
      poisonSuspect: null,
      spotsHeld: this.lanes.heldSpots,
      spotsWaiting: this.lanes.queued,
      spotsTracked: this.lanes.size,
      commandsRelayed: this.commandsRelayed,
      commandsRejected: this.commandsRejected,
    };
  }

  /** What this upstream adds to its /api/status entry. */
  extra(): Record<string, number> {
    const s = this.status();
    return { spotsHeld: s.spotsHeld, spotsWaiting: s.spotsWaiting, spotsTracked: s.spotsTracked, commandsRelayed: s.commandsRelayed, commandsRejected: s.commandsRejected };
  }

  /**
   * Bounded memory with many spots: a lane whose spot has nothing above its cursor and posted no
   * sooner than a poll period ago holds nothing a new lane would not (its poll is due either way).
   */
  private releaseIdleLanes(): void {
    const now = this.now();
    if (now - this.lastReleaseAt < Math.max(this.o.pollAfterMs, 1000)) return;
    this.lastReleaseAt = now;
    const { source, upstreamName, pollAfterMs } = this.o;
    this.lanes.releaseIdle((lane) => now - lane.lastPostAt >= pollAfterMs && lane.lastId <= source.cursor(upstreamName, lane.spot));
  }

  /** While the server is this gateway itself: the reason /healthz gives, else null. */
  problem(): string | null {
    return this.state === 'looped' ? `upstream ${this.o.upstreamName}: ${this.lastError ?? 'spot_server.url leads back to this gateway'}` : null;
  }

  private appended(spot: string, lastId: number): void {
    this.releaseIdleLanes();
    const lane = this.lanes.lane(spot);
    lane.lastId = Math.max(lane.lastId, lastId);
    this.lanes.enqueue(lane);
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || !this.running) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.running || this.gate !== null) return;
    const limit = this.probing ? 1 : this.o.maxPostsInFlight;
    while (this.posting < limit) {
      const lane = this.lanes.next();
      if (!lane) return;
      if (!this.startPost(lane)) return;
    }
  }

  /** False when the store could not be read (the lane waits, the pump tries again in a second). */
  private startPost(lane: Lane): boolean {
    const { source, upstreamName } = this.o;
    let events: ChainEvent[];
    try {
      const cursor = source.cursor(upstreamName, lane.spot);
      events = lane.lastId > cursor ? sameEncodingPrefix(source.readSpot(upstreamName, lane.spot, cursor, this.o.maxEventsPerPost)) : [];
    } catch (err) {
      this.lastError = `reading the store failed: ${describe(err)}`;
      this.logger.error({ spot: lane.spot }, `spot server: ${this.lastError}; retrying in 1 s`);
      this.lanes.requeue(lane);
      this.closeGate(1000);
      return false;
    }
    if (events.length === 0 && !lane.pollWanted) {
      lane.state = 'idle';
      return true;
    }
    lane.pollWanted = false;
    lane.state = 'posting';
    lane.lastPostAt = this.now();
    const encoding = events[0]?.encoding ?? lane.encoding;
    lane.encoding = encoding;
    const body = postBody(events, encoding, this.tag, source.userAgentOf(lane.spot), this.token);
    this.posting++;
    this.published += events.length;
    // The instance id lets a server that is this very gateway see it (508, docs/chaining.md).
    const headers = { ...body.headers, [GATEWAY_INSTANCE_HEADER]: source.instanceId };
    this.o.post({ serial: lane.spot, headers, chunks: body.chunks }).then(
      (answer) => this.answered(lane, events, answer),
      (err: unknown) => this.failed(lane, `post of spot ${lane.spot} to ${this.o.url} failed: ${describe(err)}`, null),
    );
    return true;
  }

  private answered(lane: Lane, events: ChainEvent[], answer: PostAnswer): void {
    if (answer.status === 508) {
      const theirs = answer.body.toString('utf8', 0, 300);
      const reason = `spot_server.url ${this.o.url} leads back to this gateway itself (instance ${this.o.source.instanceId}; it answered 508: ${theirs}): a gateway cannot forward to itself; nothing is forwarded until spot_server.url names another gateway (reload with SIGHUP)`;
      this.failed(lane, reason, answer.retryAfterS, true);
      return;
    }
    if (answer.status !== 200) {
      const reason = `spot server answered ${answer.status} to a post of spot ${lane.spot}: ${answer.body.toString('utf8', 0, 300)}`;
      if (serverWide(answer.status)) this.failed(lane, reason, answer.retryAfterS);
      else this.refusedForGood(lane, reason);
      return;
    }
    this.posted();
    this.up();
    this.lanes.succeeded(lane);
    const last = events[events.length - 1];
    if (last) {
      const now = this.now();
      for (const e of events) this.delivery.delivered(e.timeReceived, now);
      this.acked += events.length;
      this.rate.add(events.length);
      this.lastAckAt = now;
      this.failuresSinceAck = 0;
    }
    this.relay(lane.spot, answer);
    if (!last || !this.running) {
      lane.state = 'idle';
      if (last) this.advance(lane.spot, last.id);
      if (lane.lastId > this.o.source.cursor(this.o.upstreamName, lane.spot)) this.lanes.enqueue(lane);
      this.schedulePump();
      return;
    }
    this.advance(lane.spot, last.id);
    lane.state = 'committing';
    this.committing.push(lane);
    this.scheduleCommit();
  }

  private relay(spot: string, answer: PostAnswer): void {
    const encoding = answer.contentType.toLowerCase().startsWith(PB_CONTENT_TYPE) ? 'pb' : 'json';
    void relayCommands(spot, answer.body, encoding, this.o.queueCommand).then((outcome) => this.relayed(spot, outcome));
  }

  private relayed(spot: string, outcome: RelayOutcome): void {
    this.commandsRelayed += outcome.queued;
    this.commandsRejected += outcome.refused.length;
    if (outcome.queued > 0) this.logger.info({ spot, commands: outcome.queued }, `spot ${spot}: ${outcome.queued} command(s) queued (spot server)`);
    for (const reason of outcome.refused) this.logger.warn({ spot }, `spot server: command for spot ${spot} not queued: ${reason}`);
  }

  private advance(spot: string, id: number): void {
    try {
      this.o.source.advanceCursor(this.o.upstreamName, spot, id);
    } catch (err) {
      // The events go again with the same numbering (the server drops them as duplicates), after a second.
      this.lastError = `saving the cursor of spot ${spot} at ${id} failed: ${describe(err)}`;
      this.logger.error({ spot }, `spot server: ${this.lastError}; retrying in 1 s`);
      this.closeGate(1000);
    }
  }

  /** One commit for every cursor moved in this turn; only then do those spots post again. */
  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      void this.commit();
    });
  }

  /** `always`: at stop, for cursors moved by posts answered after it began. */
  private async commit(always = false): Promise<void> {
    const lanes = this.committing;
    if (lanes.length === 0 && !always) return;
    this.committing = [];
    try {
      await this.o.source.flush();
    } catch (err) {
      // Not durable yet: those spots wait, and the commit is tried again in a second.
      this.committing.push(...lanes);
      this.lastError = `committing cursors failed: ${describe(err)}`;
      this.logger.error({}, `spot server: ${this.lastError}; retrying in 1 s`);
      if (this.running) this.timers.setTimeout(() => this.scheduleCommit(), 1000);
      return;
    }
    for (const lane of lanes) {
      lane.state = 'idle';
      if (lane.lastId > this.o.source.cursor(this.o.upstreamName, lane.spot)) this.lanes.enqueue(lane);
    }
    this.schedulePump();
  }

  /** The server could not take the post (unreachable, token refused, busy): every spot waits for the backoff. */
  private failed(lane: Lane, reason: string, retryAfterS: number | null, loop = false): void {
    this.posted();
    this.failures++;
    this.failuresSinceAck++;
    this.lastError = reason;
    lane.state = 'idle';
    lane.pollWanted ||= lane.lastId <= this.o.source.cursor(this.o.upstreamName, lane.spot);
    this.lanes.enqueue(lane);
    if (!this.running || this.gate !== null) return;
    const wasLooped = this.state === 'looped';
    this.state = loop ? 'looped' : 'down';
    this.downSince ??= this.now();
    const delay = Math.max(this.backoff.next(), (retryAfterS ?? 0) * 1000);
    if (!loop) this.logger.warn({ spot: lane.spot, retryInMs: delay }, `spot server: ${reason}; next try in ${delay} ms`);
    else if (!wasLooped) this.logger.error({ spot: lane.spot, retryInMs: delay }, `spot server: ${reason}`);
    this.closeGate(delay);
  }

  /** The server refused this spot's post (400, 404, 409, 413, ...): that spot alone waits on its own backoff. */
  private refusedForGood(lane: Lane, reason: string): void {
    this.posted();
    this.up();
    this.refused++;
    this.failuresSinceAck++;
    this.lastError = reason;
    this.lanes.hold(lane, reason);
    const delay = lane.backoff!.next();
    this.logger.warn({ spot: lane.spot, retryInMs: delay }, `spot server: ${reason}; the spot tries again in ${delay} ms, the others go on`);
    this.timers.setTimeout(() => {
      if (!this.running) return;
      this.lanes.release(lane);
      this.schedulePump();
    }, delay);
    this.schedulePump();
  }

  /** An answer was taken: the server is reachable. */
  private up(): void {
    if (this.state !== 'connected') this.logger.info({ url: this.o.url }, `spot server: ${this.o.url} answers`);
    this.state = 'connected';
    this.downSince = null;
    this.probing = false;
    this.backoff.reset();
  }

  private posted(): void {
    this.posting--;
    if (this.posting === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private closeGate(delayMs: number): void {
    if (this.gate !== null || !this.running) return;
    this.gate = this.timers.setTimeout(() => {
      this.gate = null;
      this.probing = this.state === 'down';
      this.pump();
    }, delayMs);
  }
}
