// One spot post: decode chunks as they arrive, number the events, append per chunk, reply after commit.
import {
  canSniff,
  createJsonDecoder,
  createPbDecoder,
  sniffEncoding,
  type DecodedItem,
  type Encoding,
  type RejectedMessage,
  type SpotEvent,
  type StreamDecoder,
} from '../protocol/index.js';
import { StoreUnavailableError, type AppendOutcome, type NewEvent, type Store } from '../store/types.js';
import type { IngestCounters } from './counters.js';
import type { PostNumbering } from './headers.js';
import type { PostNumberingBound } from './numbering-bound.js';
import type { CommandLeases } from './command-leases.js';
import { pendingReply } from './pending-commands.js';
import type { Reply } from './reply.js';
import { SettleOrder } from './settle-order.js';

export interface IngestLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface IngestDeps {
  store: Pick<Store, 'appendWith' | 'commands' | 'spots' | 'rejected'>;
  now: () => number;
  logger: IngestLogger;
  counters: IngestCounters;
  maxEventBytes: number;
  maxRejectedPerPost: number;
  /** Bytes of commands in one reply (commands.max_reply_bytes); the rest wait for the next post. */
  maxReplyBytes?: number;
  /** Spots with a reply carrying commands being written (SpotIngest's): another reply of theirs carries none. */
  leases?: CommandLeases;
  /** The spot sent bytes (online tracking). */
  heard: (serial: string) => void;
  /** Events handed to the store and not yet settled, over all posts (back-pressure). */
  flow?: { inFlightEvents: number };
  /** Runs `next` in a later turn of the event loop (default setImmediate): how a large piece is sliced. */
  defer?: (next: () => void) => void;
  /** Milliseconds, for the decoding budget of one turn (default performance.now). */
  clock?: () => number;
  /**
   * Charged with every event decoded, per spot (limits.spot_events_per_s): the transport pauses a
   * post while its spot is over the rate (limits/token-buckets.ts, docs/limits.md).
   */
  spotRate?: { take(serial: string, n: number): number };
}

export interface PostInfo {
  serial: string;
  contentType: string | undefined;
  firmwareVersion: string | null;
  numbering: PostNumbering | null;
  /** Unauthenticated posts: how far frames carrying their own numbering may move it (docs/security.md). */
  numberingBound?: PostNumberingBound;
  /** A WebSocket connection: one stream of many messages (docs/websocket.md). */
  transport?: 'ws';
}

/** What a WebSocket acknowledgement says: messages done since the upgrade and the last one's numbering. */
export interface StreamProgress {
  messages: number;
  numbering: { boot: number; seq: number } | null;
}

export type PostOutcome =
  | ({ ok: true; encoding: Encoding; events: number; rejected: number; duplicates: number } & Reply)
  | { ok: false; reason: string; retryAfterSeconds: number };

// Whitespace-only starts longer than this are decided as JSON rather than buffered forever.
const SNIFF_LIMIT = 256;

/**
 * A piece over this many bytes is decoded in slices of it, until DECODE_TURN_MS have passed in
 * this turn of the event loop; the rest waits for a later turn while the transport stops reading.
 * One post then holds the loop for at most DECODE_TURN_MS plus one slice (docs/protocol.md, "Garbage").
 */
export const DECODE_SLICE_BYTES = 8192;
export const DECODE_TURN_MS = 2;

export class SpotPost {
  protected decoder: StreamDecoder | null = null;
  private encodingUsed: Encoding | null = null;
  private head: Uint8Array[] = [];
  private headBytes = 0;
  /** Appends handed to the store and not settled yet, and who waits for them all. */
  private pending = 0;
  private settledWaiters: Array<() => void> = [];
  protected failure: StoreUnavailableError | Error | null = null;
  protected events = 0;
  private stored = 0;
  private duplicates = 0;
  protected rejected = 0;
  private rejectRecords = 0;
  private rejectedNotKept = 0;
  private firstReject: string | null = null;
  private registryTrouble = false;
  protected closed = false;
  /** Pieces not decoded yet (the first one may be partly decoded), and who waits for them. */
  private backlog: Uint8Array[] = [];
  private backlogWaiters: Array<() => void> = [];
  /** Appends in the order handed to the store: what a WebSocket acknowledgement waits for. */
  protected readonly order = new SettleOrder();
  /** Numbering of the last message decoded (event or malformed), when known. */
  protected last: { boot: number; seq: number } | null = null;
  /** What record() already gave the registry (a WebSocket records as it goes). */
  private readonly recorded = { posts: 0, events: 0, rejected: 0, duplicates: 0 };

  constructor(
    private readonly deps: IngestDeps,
    readonly info: PostInfo,
  ) {
    deps.counters.posts++;
    deps.heard(info.serial);
    this.guardRegistry(() => deps.store.spots.touch(info.serial, { now: deps.now(), firmwareVersion: info.firmwareVersion }));
    if (canSniff(info.contentType, new Uint8Array(0))) this.start(sniffEncoding(info.contentType, new Uint8Array(0)));
  }

  get encoding(): Encoding | null {
    return this.encodingUsed;
  }

  /** Appends started and not yet settled. */
  get pendingAppends(): number {
    return this.pending;
  }

  /** Bytes received and not decoded yet: the transport stops reading meanwhile. */
  get decoding(): boolean {
    return this.backlog.length > 0;
  }

  /** Resolves once every append handed to the store so far has settled. */
  protected allSettled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** The next piece of the body, as it arrived; a piece over DECODE_SLICE_BYTES is decoded by decodeTurn. */
  push(chunk: Uint8Array): void {
    if (this.closed) return;
    this.deps.counters.bytes += chunk.length;
    this.deps.heard(this.info.serial);
    if (this.backlog.length === 0 && chunk.length <= DECODE_SLICE_BYTES) {
      this.decode(chunk);
      return;
    }
    this.backlog.push(chunk);
    if (this.backlog.length === 1) this.decodeTurn();
  }

  /** Decodes slices of the backlog for at most DECODE_TURN_MS (at least one slice); the rest in a later turn. */
  private decodeTurn(): void {
    const clock = this.deps.clock ?? performance.now.bind(performance);
    const start = clock();
    do {
      if (this.closed) {
        this.backlog = [];
        break;
      }
      const first = this.backlog[0]!;
      if (first.length <= DECODE_SLICE_BYTES) {
        this.backlog.shift();
        this.decode(first);
      } else {
        this.backlog[0] = first.subarray(DECODE_SLICE_BYTES);
        this.decode(first.subarray(0, DECODE_SLICE_BYTES));
      }
    } while (this.backlog.length > 0 && clock() - start < DECODE_TURN_MS);
    if (this.backlog.length > 0) {
      (this.deps.defer ?? setImmediate)(() => this.decodeTurn());
      return;
    }
    const waiters = this.backlogWaiters;
    this.backlogWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once every piece received so far is decoded. */
  decoded(): Promise<void> {
    if (this.backlog.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.backlogWaiters.push(resolve));
  }

  private decode(chunk: Uint8Array): void {
    if (this.decoder) {
      this.handle(this.decoder.push(chunk));
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    const head = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    if (!canSniff(this.info.contentType, head) && this.headBytes < SNIFF_LIMIT) return;
    this.head = [];
    this.start(sniffEncoding(this.info.contentType, head));
    this.handle(this.decoder!.push(head));
  }

  /** The body ended: waits for every append of this post, then builds the reply. */
  async finish(): Promise<PostOutcome> {
    if (this.backlog.length > 0) await this.decoded();
    if (this.closed) return { ok: false, reason: 'the post was already cut off', retryAfterSeconds: 1 };
    if (!this.decoder) {
      const head = Buffer.concat(this.head);
      this.head = [];
      this.start(sniffEncoding(this.info.contentType, head));
      if (head.length > 0) this.handle(this.decoder!.push(head));
    }
    this.handle(this.decoder!.end());
    this.closed = true;
    await this.allSettled();
    this.record();
    if (this.failure) {
      this.deps.counters.postsRefused++;
      const retryAfterSeconds = this.failure instanceof StoreUnavailableError ? this.failure.retryAfterSeconds : 5;
      return { ok: false, reason: this.failure.message, retryAfterSeconds };
    }
    const reply = pendingReply(this.deps, this.info.serial, this.encodingUsed!);
    return { ok: true, encoding: this.encodingUsed!, events: this.events, rejected: this.rejected, duplicates: this.duplicates, ...reply };
  }

  /** The body was cut off (idle timeout, client gone): what was appended stays stored. */
  abort(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.counters.postsCut++;
    void this.allSettled().then(() => {
      this.record();
      this.deps.logger.warn(
        { spot: this.info.serial, events: this.events, stored: this.stored, reason },
        `spot ${this.info.serial}: post cut off (${reason}); ${this.stored} events stored before, kept`,
      );
    });
  }

  private start(encoding: Encoding): void {
    this.encodingUsed = encoding;
    const options = { maxMessageBytes: this.deps.maxEventBytes };
    this.decoder = encoding === 'pb' ? createPbDecoder(options) : createJsonDecoder(options);
  }

  protected handle(items: DecodedItem[]): void {
    if (items.length === 0) return;
    const batch: NewEvent[] = [];
    const now = this.deps.now();
    for (const item of items) {
      if (item.kind === 'rejected') this.reject(item.rejected, now);
      else {
        const beyond = this.beyondBound(item.event);
        if (beyond) this.reject(beyond, now, true);
        else batch.push(this.toNewEvent(item.event, now));
      }
    }
    if (batch.length === 0) return;
    this.events += batch.length;
    this.deps.counters.eventsReceived += batch.length;
    this.deps.spotRate?.take(this.info.serial, batch.length);
    const flow = this.deps.flow;
    if (flow) flow.inFlightEvents += batch.length;
    this.pending++;
    const count = batch.length;
    const ticket = this.order.issue();
    this.deps.store.appendWith(batch, (err, outcomes) => this.appended(count, ticket, err, outcomes));
  }

  private appended(events: number, ticket: number, err: Error | null, outcomes: AppendOutcome[]): void {
    const flow = this.deps.flow;
    if (flow) flow.inFlightEvents -= events;
    if (err) {
      this.failure ??= err;
    } else {
      let duplicates = 0;
      for (const outcome of outcomes) if ('duplicate' in outcome) duplicates++;
      this.duplicates += duplicates;
      this.stored += outcomes.length - duplicates;
      this.deps.counters.duplicates += duplicates;
      this.deps.counters.eventsStored += outcomes.length - duplicates;
    }
    this.order.settle(ticket);
    if (--this.pending > 0 || this.settledWaiters.length === 0) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const w of waiters) w();
  }

  /** A frame carrying its own numbering beyond the bound is rejected (kept with the reason), not stored. */
  private beyondBound(event: SpotEvent): RejectedMessage | null {
    const bound = this.info.numberingBound;
    if (!bound || (event.boot === undefined && event.seq === undefined)) return null;
    const numbering = this.info.numbering;
    const boot = event.boot ?? numbering?.boot;
    const seq = event.seq ?? (numbering ? numbering.seq + event.index : undefined);
    if (boot === undefined || seq === undefined) return null;
    const reason = bound.admit({ boot, seq });
    if (!reason) return null;
    this.deps.counters.numberingRefused++;
    const raw = event.pb ?? new Uint8Array(0);
    this.last = { boot, seq };
    return { offset: event.offset, index: event.index, messages: 1, raw: raw.subarray(0, 1024), length: raw.length, reason };
  }

  private toNewEvent(event: SpotEvent, now: number): NewEvent {
    const serial = this.info.serial;
    this.noteRegistry(event);
    const numbering = this.info.numbering;
    const boot = event.boot ?? numbering?.boot ?? null;
    const seq = event.seq ?? (numbering ? numbering.seq + event.index : null);
    if (boot !== null && seq !== null) this.last = { boot, seq };
    return {
      spot: serial,
      resource: event.resource,
      action: event.action,
      data: event.dataJson ?? JSON.stringify(event.data),
      pb: event.pb ?? null,
      encoding: this.encodingUsed!,
      timeReceived: now,
      boot: boot !== null && seq !== null ? boot : null,
      seq: boot !== null && seq !== null ? seq : null,
    };
  }

  private noteRegistry(event: SpotEvent): void {
    const { resource, action, data } = event;
    const serial = this.info.serial;
    if (resource === 'spot' && action === 'create') this.guardRegistry(() => this.deps.store.spots.recordSpotCreate(serial, data));
    else if (resource === 'config' && action === 'create') this.guardRegistry(() => this.deps.store.spots.recordConfigCreate(serial, data));
    else if (resource === 'config' && action === 'update') this.guardRegistry(() => this.deps.store.spots.mergeConfig(serial, data));
  }

  /**
   * A reject stands for one malformed message or a run of them in a row: counted by message, kept by record.
   * `numbered`: a frame refused for its own numbering, which `last` already names.
   */
  private reject(rejected: RejectedMessage, now: number, numbered = false): void {
    this.rejected += rejected.messages;
    this.deps.counters.rejected += rejected.messages;
    if (!numbered) this.numberMalformed(rejected);
    this.firstReject ??= rejected.reason;
    if (++this.rejectRecords > this.deps.maxRejectedPerPost) {
      this.rejectedNotKept += rejected.messages;
      this.deps.counters.rejectedNotKept += rejected.messages;
      return;
    }
    const { serial } = this.info;
    this.guardRegistry(() =>
      this.deps.store.rejected.add({ spot: serial, raw: rejected.raw, reason: rejected.reason, offset: rejected.offset, time: now }),
    );
  }

  /**
   * Malformed messages carry no numbering to trust: they take the one after the message before them
   * in this post or stream (a spot numbering its frames itself gave them the next seqs), else the
   * headers' `seq + index` (docs/websocket.md, "Acknowledgement").
   */
  private numberMalformed(rejected: RejectedMessage): void {
    const before = this.last;
    const numbering = this.info.numbering;
    if (before) this.last = { boot: before.boot, seq: before.seq + rejected.messages };
    else if (numbering) this.last = { boot: numbering.boot, seq: numbering.seq + rejected.index + rejected.messages - 1 };
  }

  /** Registry and rejected-log writes must never fail a post; one log line per post says so. */
  private guardRegistry(write: () => void): void {
    try {
      write();
    } catch (err) {
      if (this.registryTrouble) return;
      this.registryTrouble = true;
      this.deps.logger.warn({ spot: this.info.serial, reason: String(err) }, `spot ${this.info.serial}: registry not updated`);
    }
  }

  /** Gives the registry what came since the last record (a post records once, a WebSocket as it goes). */
  protected record(): void {
    const { serial } = this.info;
    const done = this.recorded;
    const rejected = this.rejected - done.rejected;
    this.guardRegistry(() =>
      this.deps.store.spots.recordPost(serial, {
        firmwareVersion: this.info.firmwareVersion,
        posts: 1 - done.posts,
        events: this.stored - done.events,
        rejected,
        duplicates: this.duplicates - done.duplicates,
        now: this.deps.now(),
      }),
    );
    Object.assign(done, { posts: 1, events: this.stored, rejected: this.rejected, duplicates: this.duplicates });
    if (rejected > 0) {
      const notKept = this.rejectedNotKept;
      this.deps.logger.warn(
        { spot: serial, rejected, notKept, firstReason: this.firstReject },
        `spot ${serial}: ${rejected} malformed message(s) in ${this.info.transport === 'ws' ? 'WebSocket messages' : 'post'}${notKept ? ` (${notKept} counted, not kept)` : ''}; first: ${this.firstReject}`,
      );
    }
    if (this.failure) {
      this.deps.logger.warn({ spot: serial, reason: this.failure.message }, `spot ${serial}: post not acknowledged: ${this.failure.message}`);
    }
  }
}
