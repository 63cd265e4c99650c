// Fakes for the spot-server forwarder's tests: an in-memory store, timers fired by hand, a server
// scripted per post, and a forwarder wired to them.
import { JSON_CONTENT_TYPE } from '../../gateway/src/protocol/index.js';
import { SpotServerForwarder, type ChainEvent, type PostAnswer, type PostRequest, type SpotServerSource } from '../../gateway/src/upstream/spot-server/index.js';
import type { Timers } from '../../gateway/src/upstream/index.js';

export const UP = 'spot_server';

export class Source implements SpotServerSource {
  readonly instanceId = 'unit';
  readonly events: ChainEvent[] = [];
  readonly cursors = new Map<string, number>();
  readonly durable = new Map<string, number>();
  private readonly listeners = new Set<(spot: string, lastId: number) => void>();
  failReads = false;
  failFlush = false;
  failAdvance = false;

  /** An append notice as the store sends it (also for ids already forwarded). */
  notify(spot: string, lastId: number): void {
    for (const l of this.listeners) l(spot, lastId);
  }

  add(spot: string, n: number, encoding: 'json' | 'pb' = 'json'): void {
    for (let i = 0; i < n; i++) {
      const id = this.events.length + 1;
      this.events.push({ id, spot, resource: 'hit', action: 'create', data: `{"n":${id}}`, encoding, timeReceived: 1000 });
    }
    for (const l of this.listeners) l(spot, this.events.length);
  }
  pendingSpots(): Array<{ spot: string; cursor: number; lastId: number }> {
    const spots = new Map<string, number>();
    for (const e of this.events) if (e.id > this.cursor(UP, e.spot)) spots.set(e.spot, e.id);
    return [...spots].map(([spot, lastId]) => ({ spot, cursor: this.cursor(UP, spot), lastId }));
  }
  readSpot(_u: string, spot: string, afterId: number, limit: number): ChainEvent[] {
    if (this.failReads) throw new Error('disk I/O error');
    return this.events.filter((e) => e.spot === spot && e.id > afterId).slice(0, limit);
  }
  advanceCursor(_u: string, spot: string, id: number): void {
    if (this.failAdvance) throw new Error('store: unknown upstream');
    this.cursors.set(spot, Math.max(id, this.cursor(UP, spot)));
  }
  cursor(_u: string, spot: string): number {
    return this.cursors.get(spot) ?? 0;
  }
  onAppended(listener: (spot: string, lastId: number) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  async flush(): Promise<void> {
    if (this.failFlush) throw new Error('database is locked');
    for (const [spot, id] of this.cursors) this.durable.set(spot, id);
  }
  status(): { perUpstream: Record<string, { pending: number }> } {
    return { perUpstream: { [UP]: { pending: this.events.filter((e) => e.id > this.cursor(UP, e.spot)).length } } };
  }
  userAgentOf(spot: string): string | null {
    return spot === '1' ? 'spot/1.0' : null;
  }
}

/** Timers fired by hand: each remembers its delay. */
export class HandTimers implements Timers {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  private next = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Fires every timer set so far; returns their delays. */
  fire(): number[] {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const timer of all) timer.fn();
    return all.map((x) => x.ms);
  }
}

/** A server scripted per post: answers come from `answer`, each request is recorded. */
export class Server {
  readonly requests: PostRequest[] = [];
  answer: (request: PostRequest) => Promise<PostAnswer> = async () => ({ status: 200, contentType: JSON_CONTENT_TYPE, body: Buffer.alloc(0), retryAfterS: null });
  post = (request: PostRequest): Promise<PostAnswer> => {
    this.requests.push(request);
    return this.answer(request);
  };
  spots(): string[] {
    return this.requests.map((r) => r.serial);
  }
}

export const ok = (body: Uint8Array = Buffer.alloc(0), contentType = JSON_CONTENT_TYPE): PostAnswer => ({ status: 200, contentType, body: Buffer.from(body), retryAfterS: null });
export const answer = (status: number, retryAfterS: number | null = null): PostAnswer => ({ status, contentType: 'application/json', body: Buffer.from('{"error":"x"}'), retryAfterS });

export function forwarder(source: Source, server: Server, timers: HandTimers, queued: Array<[string, unknown]> = [], extra: Partial<ConstructorParameters<typeof SpotServerForwarder>[0]> = {}): SpotServerForwarder {
  return new SpotServerForwarder({
    source,
    post: server.post,
    queueCommand: (spot, command) => {
      if (command.action === 'refuse') throw new Error('queue full');
      queued.push([spot, command]);
    },
    url: 'http://central',
    token: 'tok',
    upstreamName: UP,
    maxPostsInFlight: 4,
    maxEventsPerPost: 3,
    pollAfterMs: 1000,
    timers,
    ...extra,
  });
}
