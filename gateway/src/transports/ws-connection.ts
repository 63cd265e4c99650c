// One spot's WebSocket: messages into its stream, acknowledgements after commit, commands pushed as they are queued.
import type { WebSocket } from 'ws';
import type { Encoding } from '../protocol/index.js';
import type { SpotIngest, SpotPost, SpotStream, StreamProgress } from '../ingest/index.js';
import type { Pausable, PausedPosts } from './paused-readers.js';

/** Close codes (docs/websocket.md, Closing). */
export const WS_CLOSE = {
  normal: 1000,
  stopping: 1001,
  unsupported: 1003,
  tooBig: 1009,
  storeUnavailable: 1011,
  policy: 1008,
  replaced: 4001,
} as const;

export interface SpotSocketDeps {
  ingest: SpotIngest;
  /** This connection's stream of events. */
  post: SpotStream;
  encoding: Encoding;
  idleTimeoutMs: number;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Back-pressure shared with posts: whether to stop reading, and who resumes it (paused-readers.ts). */
  overloaded: (post: SpotPost) => boolean;
  paused: PausedPosts;
  /** Calls `fn` each time a command is queued for the spot; returns what stops it. */
  listenCommands: (fn: () => void) => () => void;
  /** Runs once the connection closed. */
  closed: () => void;
  /** With spot tokens: the token looked up again at every silence check; its reason once revoked. */
  stillValid?: () => string | null;
  /**
   * The connection's socket under the WebSocket. A write's callback that finds it destroyed was cut, not
   * written: Node calls back without an error for a write the socket's end cancelled (as for a post's reply).
   */
  socket: { readonly destroyed: boolean };
}

export class SpotSocket {
  private readonly serial: string;
  private readonly queue: Buffer[] = [];
  /** The pump takes queued messages; `pumped` settles when it stops. */
  private pumping = false;
  private pumped: Promise<void> = Promise.resolve();
  /** False once the connection stops taking messages (stop, replacement, close). */
  private reading = true;
  /** The latest progress whose appends all committed, and the messages acknowledged so far. */
  private committedProgress: StreamProgress | null = null;
  private ackedMessages = 0;
  private ackDue = false;
  private sending = false;
  private heardAt = performance.now();
  private readonly pinger: NodeJS.Timeout;
  private readonly unlisten: () => void;
  private readonly closedNow: Promise<void>;

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: SpotSocketDeps,
  ) {
    this.serial = deps.post.info.serial;
    this.closedNow = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.received(data, isBinary));
    ws.on('pong', () => (this.heardAt = performance.now()));
    ws.on('error', (err: Error) => this.deps.logger.warn({ spot: this.serial, reason: err.message }, `spot ${this.serial}: WebSocket: ${err.message}`));
    ws.once('close', (code: number) => this.onClose(code));
    // Looked at four times per idle period: a ping after half of it in silence, the close after all of it.
    this.pinger = setInterval(() => this.checkSilence(), Math.max(1, Math.floor(deps.idleTimeoutMs / 4)));
    this.pinger.unref();
    this.unlisten = deps.listenCommands(() => this.sendCommands());
    this.sendCommands();
  }

  /** The gateway stops: acknowledges what is committed, closes with 1001. */
  stop(): Promise<void> {
    return this.finish(WS_CLOSE.stopping, 'gateway stopping');
  }

  /** A newer connection of the same serial took over: acknowledges what is committed, closes with 4001. */
  replace(): Promise<void> {
    return this.finish(WS_CLOSE.replaced, 'replaced by a newer connection');
  }

  /** Closes at once (a stop's grace ran out). */
  cut(): void {
    this.ws.terminate();
  }

  private received(data: Buffer, isBinary: boolean): void {
    this.heardAt = performance.now();
    if (!this.reading) return;
    if (!isBinary && this.deps.encoding === 'pb') {
      this.fail(WS_CLOSE.unsupported, 'unsupported data', 'text message under spot-pb.v1: PB events go in binary messages');
      return;
    }
    this.queue.push(data);
    if (this.pumping) return;
    this.pumping = true;
    this.pumped = this.pump().catch((err: unknown) => this.fail(WS_CLOSE.storeUnavailable, 'internal error', String(err)));
  }

  /** Takes the queued messages one after the other: each is decoded whole before the next. */
  private async pump(): Promise<void> {
    const { post } = this.deps;
    try {
      while (this.reading && this.queue.length > 0) {
        this.take(this.queue.shift()!);
        if (post.decoding) await post.decoded();
        const progress = post.endMessage();
        void post.committed().then(() => this.committedUpTo(progress));
        if (this.deps.overloaded(post)) await this.resumed();
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Stops reading until this stream and the gateway are under their bounds of uncommitted events. */
  private resumed(): Promise<void> {
    const ws = this.ws;
    return new Promise((resolve) => {
      const reader: Pausable = {
        pause: () => ws.pause(),
        resume: () => {
          ws.resume();
          resolve();
        },
        get destroyed() {
          return ws.readyState !== ws.OPEN;
        },
      };
      // While paused the spot counts as heard: the silence is ours.
      this.deps.paused.add(reader, this.deps.post, () => (this.heardAt = performance.now()));
    });
  }

  /** One message into the stream. Its events are charged to the spot's rate by ingest; over it, reading pauses (paused-readers.ts). */
  private take(data: Buffer): void {
    this.deps.ingest.counters.wsMessages++;
    this.deps.post.push(data);
  }

  /** Every append up to `progress` settled: acknowledged in the next turn (one ack per commit at most). */
  private committedUpTo(progress: StreamProgress): void {
    const failed = this.deps.post.failed;
    if (failed) {
      this.fail(WS_CLOSE.storeUnavailable, 'store unavailable', failed);
      return;
    }
    if (progress.messages <= (this.committedProgress?.messages ?? 0)) return;
    this.committedProgress = progress;
    if (this.ackDue) return;
    this.ackDue = true;
    setImmediate(() => this.ack());
  }

  private ack(): void {
    this.ackDue = false;
    const progress = this.committedProgress;
    if (!progress || progress.messages <= this.ackedMessages || this.ws.readyState !== this.ws.OPEN) return;
    this.ackedMessages = progress.messages;
    const ack = progress.numbering ? { events: progress.messages, boot: progress.numbering.boot, seq: progress.numbering.seq } : { events: progress.messages };
    this.ws.send(JSON.stringify({ ack }));
    this.deps.ingest.counters.wsAcks++;
    this.deps.post.recordProgress();
  }

  /** Stops reading, waits for what was handed to the store, acknowledges it, closes with `code` (after `error`, if any). */
  private async finish(code: number, reason: string, error?: { error: string; reason: string }): Promise<void> {
    if (this.reading) {
      this.reading = false;
      this.queue.length = 0;
      await this.pumped;
      await this.deps.post.committed();
      // Reading again: the close handshake needs the spot's close frame; its messages are dropped now.
      this.ws.resume();
      if (this.deps.post.failed) this.fail(WS_CLOSE.storeUnavailable, 'store unavailable', this.deps.post.failed);
      else {
        this.ack();
        if (error) this.ws.send(JSON.stringify(error));
        this.ws.close(code, reason);
      }
    }
    return this.closedNow;
  }

  /** An error the spot should log, then the close. */
  private fail(code: number, error: string, reason: string): void {
    this.reading = false;
    this.queue.length = 0;
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.resume();
    this.deps.logger.warn({ spot: this.serial, code, reason }, `spot ${this.serial}: WebSocket closed ${code}: ${reason}`);
    this.ws.send(JSON.stringify({ error, reason: `spot ${this.serial}: ${reason}` }));
    this.ws.close(code, error);
  }

  /** Pings a silent connection; one silent for idleTimeoutMs (no pong either) is closed. */
  private checkSilence(): void {
    const invalid = this.reading ? this.deps.stillValid?.() : null;
    if (invalid) {
      this.deps.logger.warn({ spot: this.serial, code: WS_CLOSE.policy, reason: invalid }, `spot ${this.serial}: WebSocket closed ${WS_CLOSE.policy}: ${invalid}`);
      void this.finish(WS_CLOSE.policy, 'credentials no longer valid', { error: 'unauthorized', reason: `spot ${this.serial}: ${invalid}; events acknowledged so far are stored` });
      return;
    }
    const silentMs = performance.now() - this.heardAt;
    if (silentMs >= this.deps.idleTimeoutMs) {
      this.deps.logger.warn({ spot: this.serial, silentMs: Math.round(silentMs) }, `spot ${this.serial}: WebSocket silent for ${this.deps.idleTimeoutMs} ms (no pong), closed`);
      this.ws.terminate();
    } else if (silentMs >= this.deps.idleTimeoutMs / 2) {
      this.ws.ping();
    }
  }

  /**
   * Queued commands go out now, one message at a time; more queued meanwhile follow once it is
   * written. Not once the connection stops reading (replaced, stopping): they wait for the next.
   */
  private sendCommands(previous: number[] = []): void {
    if (this.sending || !this.reading || this.ws.readyState !== this.ws.OPEN) return;
    const { ingest, encoding } = this.deps;
    const reply = ingest.pendingReply(this.serial, encoding);
    const ids = reply.commandIds;
    if (ids.length === 0) return;
    // The same commands again right after they were written: marking them delivered failed (logged); they wait for the next signal.
    if (ids.length === previous.length && ids.every((id, i) => id === previous[i])) {
      ingest.dropped(this.serial, ids);
      return;
    }
    this.sending = true;
    this.ws.send(reply.body, { binary: true }, (err) => {
      this.sending = false;
      if (err || this.deps.socket.destroyed) {
        ingest.undelivered(this.serial, ids);
        return;
      }
      ingest.delivered(this.serial, ids);
      this.sendCommands(ids);
    });
  }

  private onClose(code: number): void {
    this.reading = false;
    this.queue.length = 0;
    clearInterval(this.pinger);
    this.unlisten();
    this.deps.logger.info({ spot: this.serial, code, acked: this.ackedMessages }, `spot ${this.serial}: WebSocket closed (${code})`);
    void this.deps.post.closeStream();
    this.deps.closed();
  }
}
