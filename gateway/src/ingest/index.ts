// Ingest: per-post pipelines sharing the store, counters and online tracking. No HTTP here.
import type { Encoding } from '../protocol/index.js';
import { CommandLeases } from './command-leases.js';
import { IngestCounters } from './counters.js';
import { pendingReply } from './pending-commands.js';
import { SpotPost, type IngestDeps, type PostInfo } from './post.js';
import type { Reply } from './reply.js';
import { SpotStream } from './stream.js';

export { IngestCounters } from './counters.js';
export { OnlineTracker, type OnlineState, type OnlineTimers } from './online.js';
export { SpotPost, type IngestDeps, type IngestLogger, type PostInfo, type PostOutcome, type StreamProgress } from './post.js';
export { CommandSignal } from './command-signal.js';
export { CommandLeases } from './command-leases.js';
export { SpotStream } from './stream.js';
export { parseSerial, parseNumbering, checkContentEncoding, firmwareFromUserAgent, type PostNumbering, type Checked } from './headers.js';
export { encodeReply, contentTypeOf, type Reply } from './reply.js';

/** Responses carrying a command that may be cut off before the command is given up (docs/api.md). */
export const DEFAULT_MAX_COMMAND_ATTEMPTS = 3;

export interface SpotIngestDeps extends Omit<IngestDeps, 'counters'> {
  counters?: IngestCounters;
  maxCommandAttempts?: number;
  /** A reply holding a spot's commands was settled after another reply of the spot went without them (a WebSocket sends them now). */
  commandsFreed?: (serial: string) => void;
}

export class SpotIngest {
  readonly counters: IngestCounters;
  /** Events handed to the store and not committed yet, over all posts. */
  readonly flow = { inFlightEvents: 0 };
  /** A spot's commands are in one reply at a time (docs/api.md, "One reply at a time"). */
  readonly leases: CommandLeases;
  private readonly maxAttempts: number;

  constructor(private readonly deps: SpotIngestDeps) {
    this.counters = deps.counters ?? new IngestCounters();
    this.maxAttempts = deps.maxCommandAttempts ?? DEFAULT_MAX_COMMAND_ATTEMPTS;
    this.leases = new CommandLeases(deps.commandsFreed);
  }

  openPost(info: PostInfo): SpotPost {
    return new SpotPost({ ...this.deps, counters: this.counters, flow: this.flow, leases: this.leases }, info);
  }

  /** A spot's WebSocket: one stream of events for the connection (docs/websocket.md). */
  openStream(info: Omit<PostInfo, 'transport'>): SpotStream {
    return new SpotStream({ ...this.deps, counters: this.counters, flow: this.flow, leases: this.leases }, { ...info, transport: 'ws' });
  }

  /**
   * The commands waiting for `serial` that fit one reply body (a WebSocket message carrying commands);
   * none while another reply of the spot carries some. Settle it with delivered, undelivered or dropped.
   */
  pendingReply(serial: string, encoding: Encoding): Reply {
    return pendingReply({ ...this.deps, counters: this.counters, leases: this.leases }, serial, encoding);
  }

  /** A reply carrying these commands was built but never started (the spot was gone): they stay queued as they were. */
  dropped(serial: string, commandIds: number[]): void {
    this.leases.release(serial, commandIds);
  }

  /** The reply carrying these commands was fully written to the spot's socket. */
  delivered(serial: string, commandIds: number[]): void {
    if (commandIds.length === 0) return;
    // Marked first, released after: a reply built in between finds the spot held, not these commands queued.
    try {
      const moved = this.deps.store.commands.markDelivered(commandIds, this.deps.now());
      this.counters.commandsDelivered += moved;
      this.deps.logger.info({ spot: serial, commands: commandIds }, `spot ${serial}: ${moved} command(s) delivered`);
    } catch (err) {
      this.deps.logger.warn({ spot: serial, commands: commandIds, reason: String(err) }, `spot ${serial}: delivered commands not marked, they will be sent again`);
    }
    this.leases.release(serial, commandIds);
  }

  /**
   * The reply carrying these commands was written but the connection closed before it was all handed to
   * the OS: they stay queued, and after maxCommandAttempts such replies they become failed.
   */
  undelivered(serial: string, commandIds: number[]): void {
    this.counters.commandRepliesCut++;
    let giveUp: number[];
    try {
      giveUp = this.deps.store.commands.noteCutReply(commandIds, this.deps.now(), this.maxAttempts);
    } catch (err) {
      this.deps.logger.warn({ spot: serial, commands: commandIds, reason: String(err) }, `spot ${serial}: cut-off reply not counted, its commands stay queued`);
      return;
    } finally {
      this.leases.release(serial, commandIds);
    }
    if (giveUp.length === 0) {
      this.deps.logger.info({ spot: serial, commands: commandIds }, `spot ${serial}: reply with ${commandIds.length} command(s) cut off before it was written; they stay queued`);
      return;
    }
    this.counters.commandsFailed += giveUp.length;
    this.deps.logger.warn(
      { spot: serial, commands: giveUp },
      `spot ${serial}: ${giveUp.length} command(s) failed: ${this.maxAttempts} replies carrying them were cut off before they were written`,
    );
  }
}
