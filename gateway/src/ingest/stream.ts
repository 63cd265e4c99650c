// One spot's WebSocket as one stream of events: a post that lasts for the connection, acknowledged message by message.
import { SpotPost, type StreamProgress } from './post.js';

/** docs/websocket.md: messages of whole events, each acknowledged once its appends committed. */
export class SpotStream extends SpotPost {
  /**
   * A message ended. An event it left incomplete is rejected as truncated, and decoding
   * goes on with the next message (the PB send-layer state is kept). Call once decoded() resolved.
   */
  endMessage(): StreamProgress {
    if (!this.closed) {
      const items = this.decoder!.end();
      for (const item of items) if (item.kind === 'rejected') item.rejected.reason = item.rejected.reason.replace('the stream ended', 'the WebSocket message ended');
      this.handle(items);
    }
    return { messages: this.events + this.rejected, numbering: this.last };
  }

  /** Resolves once every append handed to the store so far has settled (committed or failed). */
  committed(): Promise<void> {
    return this.order.all();
  }

  /** Why an append failed (the store refused), or null. */
  get failed(): string | null {
    return this.failure?.message ?? null;
  }

  /** What is settled so far goes to the registry (per acknowledgement and at the close). */
  recordProgress(): void {
    this.record();
  }

  /** The connection closed (called once); what was appended stays stored. */
  async closeStream(): Promise<void> {
    this.closed = true;
    await this.allSettled();
    this.record();
  }
}
