// An in-memory ForwardSource for unit tests and for broker tests that do not need SQLite.
import type { ForwardEvent, ForwardSource, SpotBacklog } from '../../gateway/src/upstream/index.js';

export class MemorySource implements ForwardSource {
  readonly instanceId: string;
  readonly events: ForwardEvent[] = [];
  readonly cursors = new Map<string, number>();
  readonly cursorWrites: Array<{ spot: string; id: number }> = [];
  private readonly listeners = new Set<(spot: string, lastId: number) => void>();
  private nextId = 1;
  failReads = false;

  constructor(instanceId = 'test-instance') {
    this.instanceId = instanceId;
  }

  /** Stores events (like one committed batch) and notifies listeners once per spot. */
  append(...items: Array<Omit<ForwardEvent, 'id'>>): number[] {
    const last = new Map<string, number>();
    const ids: number[] = [];
    for (const item of items) {
      const event = { ...item, id: this.nextId++ };
      this.events.push(event);
      last.set(event.spot, event.id);
      ids.push(event.id);
    }
    for (const [spot, id] of last) for (const listener of this.listeners) listener(spot, id);
    return ids;
  }

  pendingSpots(_upstream: string): SpotBacklog[] {
    const last = new Map<string, number>();
    for (const e of this.events) last.set(e.spot, e.id);
    return [...last]
      .map(([spot, lastId]) => ({ spot, lastId, cursor: this.cursors.get(spot) ?? 0 }))
      .filter((b) => b.lastId > b.cursor);
  }

  readSpot(_upstream: string, spot: string, afterId: number, limit: number): ForwardEvent[] {
    if (this.failReads) throw new Error('disk I/O error');
    const out: ForwardEvent[] = [];
    for (const e of this.events) {
      if (e.spot === spot && e.id > afterId) out.push(e);
      if (out.length === limit) break;
    }
    return out;
  }

  advanceCursor(_upstream: string, spot: string, id: number): void {
    this.cursorWrites.push({ spot, id });
    if (id > (this.cursors.get(spot) ?? 0)) this.cursors.set(spot, id);
  }

  cursor(_upstream: string, spot: string): number {
    return this.cursors.get(spot) ?? 0;
  }

  onAppended(listener: (spot: string, lastId: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  pendingCount(_upstream: string): number {
    return this.events.filter((e) => e.id > (this.cursors.get(e.spot) ?? 0)).length;
  }
}

export function jsonEvent(spot: string, n: number, resource = 'presence', action = 'create'): Omit<ForwardEvent, 'id'> {
  return { spot, resource, action, data: JSON.stringify({ n, item_code: `e2801170000002${String(n).padStart(10, '0')}` }), pb: null };
}
