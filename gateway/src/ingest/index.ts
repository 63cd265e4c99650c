// Ingest: per-post pipelines sharing the store, counters and online tracking. No HTTP here.
import { IngestCounters } from './counters.js';
import { SpotPost, type IngestDeps, type PostInfo } from './post.js';

export { IngestCounters } from './counters.js';
export { OnlineTracker, type OnlineState, type OnlineTimers } from './online.js';
export { SpotPost, type IngestDeps, type IngestLogger, type PostInfo, type PostOutcome } from './post.js';
export { parseSerial, parseNumbering, firmwareFromUserAgent, type PostNumbering, type Checked } from './headers.js';
export { encodeReply, contentTypeOf, type Reply } from './reply.js';

export class SpotIngest {
  readonly counters: IngestCounters;
  /** Events handed to the store and not committed yet, over all posts. */
  readonly flow = { inFlightEvents: 0 };

  constructor(private readonly deps: Omit<IngestDeps, 'counters'> & { counters?: IngestCounters }) {
    this.counters = deps.counters ?? new IngestCounters();
  }

  openPost(info: PostInfo): SpotPost {
    return new SpotPost({ ...this.deps, counters: this.counters, flow: this.flow }, info);
  }

  /** The reply carrying these commands was fully written to the spot's socket. */
  delivered(serial: string, commandIds: number[]): void {
    if (commandIds.length === 0) return;
    try {
      const moved = this.deps.store.commands.markDelivered(commandIds, this.deps.now());
      this.counters.commandsDelivered += moved;
      this.deps.logger.info({ spot: serial, commands: commandIds }, `spot ${serial}: ${moved} command(s) delivered`);
    } catch (err) {
      this.deps.logger.warn({ spot: serial, commands: commandIds, reason: String(err) }, `spot ${serial}: delivered commands not marked, they will be sent again`);
    }
  }
}
