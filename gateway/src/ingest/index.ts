// Ingest: per-post pipelines sharing the store, counters and online tracking. No HTTP here.
import { IngestCounters } from './counters.js';
import { SpotPost, type IngestDeps, type PostInfo } from './post.js';

export { IngestCounters } from './counters.js';
export { OnlineTracker, type OnlineState, type OnlineTimers } from './online.js';
export { SpotPost, type IngestDeps, type IngestLogger, type PostInfo, type PostOutcome } from './post.js';
export { parseSerial, parseNumbering, firmwareFromUserAgent, type PostNumbering, type Checked } from './headers.js';
export { encodeReply, contentTypeOf, type Reply } from './reply.js';

/** Responses carrying a command that may be cut off before the command is given up (docs/api.md). */
export const DEFAULT_MAX_COMMAND_ATTEMPTS = 3;
// Commands with a cut-off attempt remembered at most; beyond it the oldest are forgotten (they start again at 0).
const MAX_TRACKED_ATTEMPTS = 10000;

export interface SpotIngestDeps extends Omit<IngestDeps, 'counters'> {
  counters?: IngestCounters;
  maxCommandAttempts?: number;
}

export class SpotIngest {
  readonly counters: IngestCounters;
  /** Events handed to the store and not committed yet, over all posts. */
  readonly flow = { inFlightEvents: 0 };
  /** Cut-off responses per command id, since start: kept in memory only. */
  private readonly attempts = new Map<number, number>();
  private readonly maxAttempts: number;

  constructor(private readonly deps: SpotIngestDeps) {
    this.counters = deps.counters ?? new IngestCounters();
    this.maxAttempts = deps.maxCommandAttempts ?? DEFAULT_MAX_COMMAND_ATTEMPTS;
  }

  openPost(info: PostInfo): SpotPost {
    return new SpotPost({ ...this.deps, counters: this.counters, flow: this.flow }, info);
  }

  /** The reply carrying these commands was fully written to the spot's socket. */
  delivered(serial: string, commandIds: number[]): void {
    if (commandIds.length === 0) return;
    for (const id of commandIds) this.attempts.delete(id);
    try {
      const moved = this.deps.store.commands.markDelivered(commandIds, this.deps.now());
      this.counters.commandsDelivered += moved;
      this.deps.logger.info({ spot: serial, commands: commandIds }, `spot ${serial}: ${moved} command(s) delivered`);
    } catch (err) {
      this.deps.logger.warn({ spot: serial, commands: commandIds, reason: String(err) }, `spot ${serial}: delivered commands not marked, they will be sent again`);
    }
  }

  /**
   * The reply carrying these commands was written but the connection closed before it was all handed to
   * the OS: they stay queued, and after maxCommandAttempts such replies they become failed.
   */
  undelivered(serial: string, commandIds: number[]): void {
    this.counters.commandRepliesCut++;
    const giveUp: number[] = [];
    for (const id of commandIds) {
      const attempts = (this.attempts.get(id) ?? 0) + 1;
      this.attempts.delete(id);
      if (attempts >= this.maxAttempts) giveUp.push(id);
      else this.attempts.set(id, attempts);
    }
    while (this.attempts.size > MAX_TRACKED_ATTEMPTS) this.attempts.delete(this.attempts.keys().next().value!);
    if (giveUp.length === 0) {
      this.deps.logger.info({ spot: serial, commands: commandIds }, `spot ${serial}: reply with ${commandIds.length} command(s) cut off before it was written; they stay queued`);
      return;
    }
    try {
      const failed = this.deps.store.commands.markFailed(giveUp, this.deps.now());
      this.counters.commandsFailed += failed;
      this.deps.logger.warn(
        { spot: serial, commands: giveUp },
        `spot ${serial}: ${failed} command(s) failed: ${this.maxAttempts} replies carrying them were cut off before they were written`,
      );
    } catch (err) {
      this.deps.logger.warn({ spot: serial, commands: giveUp, reason: String(err) }, `spot ${serial}: failed commands not marked, they stay queued`);
    }
  }
}
