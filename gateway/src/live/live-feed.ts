// The dashboard's live feed: a status snapshot every second and each committed event, to every
// subscribed client, with bounded buffering per client: a client that does not keep up is dropped.
import type { RecentEvent } from './spot-activity.js';
import { sseFrame, sseRetry } from './sse.js';

/** One client's stream (an HTTP response in the gateway, a fake in tests). */
export interface LiveSink {
  /** Bytes handed to write() and not yet taken by the kernel. */
  readonly writableLength: number;
  write(chunk: string): unknown;
  /** Ends the stream now, dropping what is unsent. */
  close(): void;
  /** Called once when the stream is gone (closed by us or by the client). */
  onClose(listener: () => void): void;
}

/** Which events a client gets: none (status only), all spots, or one spot's. */
export type EventFilter = { kind: 'none' } | { kind: 'all' } | { kind: 'spot'; spot: string };

export interface LiveTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface LiveFeedOptions {
  /** The status snapshot, as JSON-able value; computed once per tick for all clients. */
  snapshot: () => unknown;
  /** A spot's latest events, oldest first: sent to a client that subscribes to it (above its Last-Event-ID). */
  recent: (spot: string) => readonly RecentEvent[];
  timers: LiveTimers;
  /** Default 1000 ms. */
  everyMs?: number;
  /** Unsent bytes a client may have; the frame that would pass it drops the client instead. Default 256 KiB. */
  maxBufferedBytes?: number;
  /** Clients at once; further ones are refused. Default 32. */
  maxClients?: number;
  /** What a browser waits before it reconnects. Default 2000 ms. */
  retryMs?: number;
  logger: { info(obj: object, msg: string): void };
}

interface Client {
  sink: LiveSink;
  filter: EventFilter;
  /** Highest event id sent: nothing at or below it is sent again. */
  lastId: number;
}

export class LiveFeed {
  private readonly clients = new Set<Client>();
  private timer: unknown = null;
  private stopped = false;
  private droppedCount = 0;
  private readonly maxBuffered: number;
  private readonly maxClients: number;

  constructor(private readonly options: LiveFeedOptions) {
    this.maxBuffered = options.maxBufferedBytes ?? 262144;
    this.maxClients = options.maxClients ?? 32;
  }

  /** Clients now, and those dropped for not keeping up since start. */
  stats(): { clients: number; dropped: number } {
    return { clients: this.clients.size, dropped: this.droppedCount };
  }

  /**
   * Starts a client's stream: the retry hint, a snapshot at once, then (for a spot) its recent events
   * above `afterId`. Returns a reason instead when the feed is full or stopped; the caller answers it.
   */
  attach(sink: LiveSink, filter: EventFilter, afterId = 0): { ok: true } | { ok: false; reason: string } {
    if (this.stopped) return { ok: false, reason: 'the gateway is stopping' };
    if (this.clients.size >= this.maxClients) return { ok: false, reason: `${this.clients.size} live clients already, the limit; close another dashboard` };
    const client: Client = { sink, filter, lastId: afterId };
    this.clients.add(client);
    sink.onClose(() => this.clients.delete(client));
    this.send(client, sseRetry(this.options.retryMs ?? 2000));
    this.send(client, sseFrame('status', JSON.stringify(this.options.snapshot())));
    if (filter.kind === 'spot') this.sendEvents(client, this.options.recent(filter.spot));
    this.timer ??= this.options.timers.setInterval(() => this.tick(), this.options.everyMs ?? 1000);
    return { ok: true };
  }

  /** Events of one commit (one spot, in id order), as they are committed. */
  publish(events: readonly RecentEvent[]): void {
    if (this.clients.size === 0 || events.length === 0) return;
    const spot = events[0]!.spot;
    for (const client of this.clients) {
      if (client.filter.kind === 'all' || (client.filter.kind === 'spot' && client.filter.spot === spot)) this.sendEvents(client, events);
    }
  }

  /** Ends every stream (the gateway stops); later attaches are refused. */
  stop(): void {
    this.stopped = true;
    this.stopTimer();
    for (const client of [...this.clients]) client.sink.close();
    this.clients.clear();
  }

  private tick(): void {
    if (this.clients.size === 0) {
      // Nobody watching: no timer, no snapshots.
      this.stopTimer();
      return;
    }
    const frame = sseFrame('status', JSON.stringify(this.options.snapshot()));
    for (const client of [...this.clients]) this.send(client, frame);
  }

  private sendEvents(client: Client, events: readonly RecentEvent[]): void {
    for (const e of events) {
      if (e.id <= client.lastId) continue;
      if (!this.send(client, sseFrame('event', eventJson(e), e.id))) return;
      client.lastId = e.id;
    }
  }

  /** Writes the frame, or drops the client when its unsent bytes would pass the bound. */
  private send(client: Client, frame: string): boolean {
    if (!this.clients.has(client)) return false;
    const unsent = client.sink.writableLength;
    if (unsent + Buffer.byteLength(frame) > this.maxBuffered) {
      this.clients.delete(client);
      this.droppedCount++;
      client.sink.close();
      this.options.logger.info(
        { unsent, limit: this.maxBuffered },
        `live feed: a client was dropped: ${unsent} bytes unsent, and the next frame would pass the limit of ${this.maxBuffered} bytes; it reconnects and goes on from its last event`,
      );
      return false;
    }
    client.sink.write(frame);
    return true;
  }

  private stopTimer(): void {
    if (this.timer !== null) this.options.timers.clearInterval(this.timer);
    this.timer = null;
  }
}

/** The event as /api/events shows it; `data` is already compact JSON text, embedded as it is. */
export function eventJson(e: RecentEvent): string {
  return `{"id":${e.id},"spot":${JSON.stringify(e.spot)},"resource":${JSON.stringify(e.resource)},"action":${JSON.stringify(e.action)},"data":${e.data},"time_received":${e.timeReceived}}`;
}
