// The spot-server upstream's options, its view of the store and its status (docs/chaining.md).
import type { HistogramSnapshot } from '../../duration-histogram.js';
import type { BackoffOptions } from '../backoff.js';
import type { Timers, UpstreamLogger } from '../options.js';
import type { ForwardSource } from '../source.js';
import type { QueueCommand } from './command-relay.js';
import type { ChainEvent } from './post-body.js';
import type { PostAnswer, PostRequest } from './poster.js';

/** What the forwarder needs of the store: the cursor API the MQTT forwarder uses, plus a durable flush and the spot's User-Agent. */
export interface SpotServerSource extends Pick<ForwardSource, 'instanceId' | 'pendingSpots' | 'advanceCursor' | 'cursor' | 'status'> {
  readSpot(upstream: string, spot: string, afterId: number, limit: number): ChainEvent[];
  onAppended(listener: (spot: string, lastId: number) => void): () => void;
  /** Commits what is queued (cursors included); rejects when the store cannot write. */
  flush(): Promise<void>;
  /** `spot/<version>` as the spot last sent it, or null. */
  userAgentOf(spot: string): string | null;
}

export interface SpotServerOptions {
  source: SpotServerSource;
  post: (request: PostRequest) => Promise<PostAnswer>;
  /** Closes the connections kept open for posts (at stop). */
  close?: () => void;
  queueCommand: QueueCommand;
  /** The server's URL, for log lines (no secret in it). */
  url: string;
  token: string;
  upstreamName: string;
  maxPostsInFlight: number;
  maxEventsPerPost: number;
  /** A spot heard from with nothing to send gets a post without events this long after its last one. */
  pollAfterMs: number;
  backoff?: BackoffOptions;
  stopTimeoutMs?: number;
  now?: () => number;
  timers?: Timers;
  logger?: UpstreamLogger;
}

export interface SpotServerStatus {
  /**
   * connecting: nothing answered yet; connected: the last answer was taken; down: failing since
   * downSinceMs; looped: the server is this gateway itself (it answered 508 to this gateway's instance id).
   */
  state: 'connecting' | 'connected' | 'down' | 'looped';
  downSinceMs: number | null;
  inFlight: number;
  published: number;
  acked: number;
  /** Posts the server refused for good (4xx); their spots wait on their own backoff. */
  refused: number;
  ratePerSec: number;
  lagEvents: number | null;
  lastError: string | null;
  /** Failed posts while the server was unreachable, refused the token, or was busy. */
  reconnects: number;
  delivery: HistogramSnapshot;
  quarantined: number;
  noAckSinceMs: number | null;
  reconnectsSinceAck: number;
  poisonSuspect: null;
  spotsHeld: number;
  /** Spots waiting for a post slot now, and spots with state here (one small record each). */
  spotsWaiting: number;
  spotsTracked: number;
  commandsRelayed: number;
  commandsRejected: number;
}
