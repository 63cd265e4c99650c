// The store contract used by ingest, upstreams and the API. The store knows
// nothing of HTTP or MQTT.
import type { Encoding } from '../protocol/types.js';
import type { HistogramSnapshot } from '../duration-histogram.js';

export interface NewEvent {
  spot: string;
  resource: string;
  action: string;
  /** Compact JSON text of the event object. */
  data: string;
  /** PB Frame bytes (tricks undone) when the spot sent PB; null for JSON. */
  pb: Uint8Array | null;
  encoding: Encoding;
  /** Unix ms when the gateway received it. */
  timeReceived: number;
  /** Numbering from the spot, if it sends any (docs/protocol.md). */
  boot: number | null;
  seq: number | null;
}

export interface StoredEvent extends NewEvent {
  /** Gateway sequence: rowid of the append-only log, increasing. */
  id: number;
}

/** Per event of an append: its id, or that it was a retransmission already stored. */
export type AppendOutcome = { id: number } | { duplicate: true };

export type OverflowPolicy = 'drop-oldest' | 'reject';
export type Durability = 'full' | 'normal' | 'off';

/** Thrown (as a rejected promise) when an append cannot be stored: the spot gets 503. */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly code: 'full' | 'io' | 'closed',
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

export type CommandState = 'queued' | 'delivered' | 'expired' | 'failed';

export interface Command {
  id: number;
  spot: string;
  resource: string;
  action: string;
  /** Compact JSON text of the command object. */
  data: string;
  /** Where it came from: 'api', 'mqtt', ... */
  source: string;
  state: CommandState;
  timeQueued: number;
  timeDelivered: number | null;
  timeExpires: number;
  timeFailed: number | null;
  /** Replies carrying it that were cut off before they were written out (kept across restarts). */
  cutReplies: number;
  /** Bytes of its JSON message `["<resource>","<action>",<data>]`: what the command bounds count. */
  size: number;
}

export interface SpotRecord {
  serial: string;
  firmwareVersion: string | null;
  firstSeen: number;
  lastSeen: number;
  posts: number;
  events: number;
  rejected: number;
  duplicates: number;
  /** Last `spot create` and `config create` objects, and config as last reported. */
  spotCreate: Record<string, unknown> | null;
  configCreate: Record<string, unknown> | null;
  config: Record<string, unknown> | null;
}

export interface RejectedRecord {
  id: number;
  spot: string;
  raw: Uint8Array;
  reason: string;
  offset: number;
  time: number;
}

/** Added by the store: options, the Store object and its parts. */

/** pino-compatible subset; the store logs one line per notable thing, never per event. */
export interface StoreLogger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
}

export interface StoreOptions {
  dataDir: string;
  /** Default 'full': synchronous FULL, safe against power loss. */
  durability?: Durability;
  /** Budget on disk for database + WAL; default 1 GiB. */
  maxBytes?: number;
  /** Default 'drop-oldest'. */
  policy?: OverflowPolicy;
  /** Upstream names with a cursor each, e.g. ['mqtt']; none = keep events until the cap. */
  upstreams?: string[];
  /** Group commit window; default 5 ms. */
  commitIntervalMs?: number;
  /**
   * Hand committed events to the upstreams at COMMIT instead of after the WAL fsync (spots are
   * still acknowledged after it). Default false. docs/storage.md, "Forwarding before the fsync".
   */
  forwardAfterCommit?: boolean;
  /** How often the recent per-spot ids are written to event_spots (default 1000 ms; 0 = every commit, for tests). */
  indexFlushMs?: number;
  /**
   * Forwarded events are kept this long after their commit (store clock `now`), then pruned;
   * default 0: at once. The size cap removes them first. docs/storage.md, "Pruning and space".
   */
  retainMs?: number;
  now?: () => number;
  logger?: StoreLogger;
  /** Instance id source for a new database; default crypto.randomUUID. */
  randomUUID?: () => string;
}

export interface PendingSpot {
  spot: string;
  /** Last event id this upstream is done with. */
  cursor: number;
  /** Id of the newest event of the spot. */
  lastId: number;
}

export interface ListedEvent {
  id: number;
  spot: string;
  resource: string;
  action: string;
  /** Compact JSON text. */
  data: string;
  timeReceived: number;
  forwarded: Record<string, boolean>;
}

export interface StoreStatus {
  /** Events in the log now. */
  events: number;
  /** Database + WAL file size on disk. */
  bytes: number;
  maxBytes: number;
  policy: OverflowPolicy;
  /** Age of the oldest event some upstream has not forwarded; null when none. */
  oldestUnforwardedAgeMs: number | null;
  /** Events dropped by the size cap, ever; and when last (ms since the epoch), null if never since open. */
  dropped: number;
  lastDropAtMs: number | null;
  /** Policy reject: the cap is refusing events now. */
  refusing: boolean;
  /** Retransmitted events dropped by dedupe, ever. */
  duplicates: number;
  /** Malformed messages recorded, ever. */
  rejected: number;
  /** Group commits since open. */
  commits: number;
  /** WAL fsyncs acknowledgements waited for, since open (none with durability normal or off). */
  walSync: HistogramSnapshot;
  /** Reason of the last failed write, null after a successful one. */
  lastError: string | null;
  /** buffer.retain: forwarded events are kept this long after their commit (0: pruned at once). */
  retainMs: number;
  /** From when (unix ms) the buffer holds every event committed; null with retainMs 0. */
  historyFrom: number | null;
  perUpstream: Record<string, { pending: number; spotsPending: number }>;
}

export interface CommandInput {
  resource: string;
  action: string;
  /** Compact JSON text of the command object. */
  data: string;
  source: string;
  /** Default 3600000 (1 h). */
  ttlMs?: number;
}

/**
 * A page of the command listing: newest first, or with `after` oldest first from above that id; `before`
 * pages back from below that id. At most `limit` commands, and it ends once their sizes passed `maxBytes`.
 */
export interface CommandPage {
  limit: number;
  after?: number;
  before?: number;
  maxBytes?: number;
}

export interface CommandQueue {
  /**
   * Committed before it returns (the queue's totals count it at once); resolves once it is durable, and only
   * then does `pendingFor` hand it out. Rejects with StoreUnavailableError when it cannot be stored.
   */
  enqueue(spot: string, input: CommandInput): Promise<Command>;
  /**
   * Queued and not expired, in id order; as many as fit in `maxBytes` by their size, and those larger
   * than `maxBytes` by themselves among them (they can never go out: for the caller to fail).
   */
  pendingFor(spot: string, now: number, maxBytes?: number): Command[];
  /** Queued and not expired: how many, and the sum of their sizes. */
  queuedTotals(spot: string, now: number): { count: number; bytes: number };
  /** Queued ones become failed now (a command that can never go out); returns how many moved. */
  markFailed(ids: number[], now: number): number;
  /** Returns how many moved from queued to delivered; committed, durable with the store's next fsync (so before anything acknowledged later). */
  markDelivered(ids: number[], now: number): number;
  /** Queued commands past their TTL become expired; returns how many. Also forgets finished commands older than 7 days (500 per call). */
  expireDue(now: number): number;
  /**
   * A reply carrying these commands was cut off before it was written out: each one still
   * queued counts it; those that reach `maxCutReplies` become failed. Returns the ids failed now.
   */
  noteCutReply(ids: number[], now: number, maxCutReplies: number): number[];
  /** One page of a spot's commands (see CommandPage). */
  list(spot: string, page: CommandPage): Command[];
  get(id: number): Command | null;
}

export interface PostRecord {
  firmwareVersion: string | null;
  /** Posts this record counts (default 1; a WebSocket records its progress as it goes, one post in all). */
  posts?: number;
  events: number;
  rejected: number;
  duplicates: number;
  now: number;
}

/** A page of the spot registry (one of after and before, or neither: from the first serial). */
export interface SpotPage {
  after?: string;
  before?: string;
  limit: number;
}

export interface SpotRegistry {
  recordPost(serial: string, post: PostRecord): void;
  /** A spot was heard from (e.g. at the start of a post) without counting a post. */
  touch(serial: string, seen: { now: number; firmwareVersion?: string | null }): void;
  recordSpotCreate(serial: string, obj: Record<string, unknown>): void;
  /** Also replaces the config as last reported. */
  recordConfigCreate(serial: string, obj: Record<string, unknown>): void;
  /** A `config update` reported by the spot: merged into the config as last reported. */
  mergeConfig(serial: string, partial: Record<string, unknown>): void;
  get(serial: string): SpotRecord | null;
  /** A page in serial order as text: above `after` ascending, or below `before` descending; at most `limit`. */
  page(page: SpotPage): SpotRecord[];
  /** How many spots are known (constant time). */
  count(): number;
}

/** One step of forgetting silent spots (docs/storage.md, "Forgetting silent spots"). */
export interface ForgetResult {
  /** Registry rows looked at. */
  scanned: number;
  forgotten: string[];
}

export interface RejectedInput {
  spot: string;
  raw: Uint8Array;
  reason: string;
  offset: number;
  time: number;
}

export interface RejectedLog {
  /** Written with the next group commit; the newest 10000 are kept. */
  add(rejected: RejectedInput): void;
  /** Newest first. */
  list(query: { limit: number; spot?: string }): RejectedRecord[];
  /** Recorded ever (also those trimmed away). */
  count(): number;
}

/** An event an upstream moved aside as poison (quarantine.ts; docs/storage.md, Quarantine). */
export interface QuarantinedEvent {
  /** Id of the quarantine entry. */
  id: number;
  upstream: string;
  /** The event's id in the log (its stable id is `<instanceId>:<eventId>`). */
  eventId: number;
  spot: string;
  resource: string;
  action: string;
  data: string;
  pb: Uint8Array | null;
  encoding: string;
  timeReceived: number;
  reason: string;
  strikes: number;
  timeQuarantined: number;
  resends: number;
  lastResendAt: number | null;
}

/** The event an upstream suspects of breaking its connection, with the losses counted against it. */
export interface PoisonSuspect {
  spot: string;
  eventId: number;
  strikes: number;
  /** When it was first suspected (ms since the epoch). */
  since: number;
}

export interface QuarantineBook {
  /**
   * Copies the event into quarantine and moves the upstream's cursor of its spot to it, in one
   * transaction, durable on return. Throws (writing nothing) unless it is the spot's next event
   * above that cursor, or with StoreUnavailableError.
   */
  add(upstream: string, spot: string, eventId: number, reason: string, strikes: number): QuarantinedEvent;
  list(query: { upstream?: string; after?: number; limit: number }): QuarantinedEvent[];
  get(id: number): QuarantinedEvent | null;
  /** Entries now (of one upstream, or all); the last known count when the file cannot be read. */
  count(upstream?: string): number;
  /** Delivered by a resend, or discarded by hand: false when there was no such entry. */
  remove(id: number): boolean;
  /** A resend was tried: it failed for `reason` (kept), adding `strikes`. */
  noteResend(id: number, reason: string, strikes: number): void;
  suspect(upstream: string): PoisonSuspect | null;
  /** Durable; null forgets it. */
  saveSuspect(upstream: string, suspect: PoisonSuspect | null): void;
}

export interface Store {
  /** Random UUID made with the database file; stable event ids are `<instanceId>:<id>`. */
  readonly instanceId: string;
  readonly dbPath: string;
  readonly upstreams: readonly string[];
  /**
   * Resolves after COMMIT (acknowledged = committed); rejects with StoreUnavailableError.
   * The store takes the event objects over: each stored one gets its `id` and is handed to the
   * upstreams as it is, so a caller must not append the same object twice.
   */
  append(events: NewEvent[]): Promise<AppendOutcome[]>;
  /** append with a callback (the ingest path: no promise per chunk). */
  appendWith(events: NewEvent[], done: (err: StoreUnavailableError | null, outcomes: AppendOutcome[]) => void): void;
  /** Spots with events above this upstream's cursor; no query. */
  pendingSpots(upstream: string): PendingSpot[];
  /** Events of one spot with id > afterId, in id order. */
  readSpot(upstream: string, spot: string, afterId: number, limit: number): StoredEvent[];
  /** Never moves backwards; persisted with the next group commit (within ~50 ms). */
  advanceCursor(upstream: string, spot: string, id: number): void;
  cursor(upstream: string, spot: string): number;
  /**
   * Called after each commit per spot that got events, with those events in id order (listeners
   * may forward them without reading them back); without them (`events` undefined) for events
   * committed but not handed over before (a failed fsync): read the spot back from `readSpot`.
   * Returns an unsubscribe function.
   */
  onAppended(cb: (spot: string, lastId: number, events?: readonly StoredEvent[]) => void): () => void;
  listEvents(query: { spot?: string; after?: number; limit: number }): ListedEvent[];
  /** At most `limit` of the spot's newest stored events, oldest first (the dashboard's spot page as it opens). */
  newestEvents(spot: string, limit: number): { id: number; spot: string; resource: string; action: string; data: string; timeReceived: number }[];
  status(): StoreStatus;
  /** Writes everything queued (cursors, registry, rejected) now. */
  flush(): Promise<void>;
  /**
   * One bounded step (a few thousand registry rows, going round): forgets the spots last seen at or
   * before `silentSince` with nothing pending for any upstream, no queued command and, with
   * upstreams, no stored event. Throws StoreUnavailableError when it cannot write.
   */
  forgetSilentSpots(silentSince: number): ForgetResult;
  /** The spot's committed numbering: boot and highest seq of its newest numbered event, or null (docs/security.md). */
  numberingOf(spot: string): { boot: number; highSeq: number } | null;
  readonly commands: CommandQueue;
  readonly spots: SpotRegistry;
  readonly rejected: RejectedLog;
  readonly quarantine: QuarantineBook;
  /**
   * SQLite's online backup of the whole database into `file` (a new file), a few pages a turn, while
   * writes go on: the store's own connection copies, so its commits during the copy land in it too
   * and the copy never restarts. Resolves once `file` holds every commit made before that moment.
   */
  backup(file: string): Promise<void>;
  /** Flushes, checkpoints, closes; later appends reject with code 'closed'. */
  close(): Promise<void>;
}
