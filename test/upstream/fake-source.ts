// An in-memory ForwardSource for unit tests and for broker tests that do not need SQLite.
import type { ForwardEvent, ForwardSource, SpotBacklog } from '../../gateway/src/upstream/index.js';

export class MemorySource implements ForwardSource {
  readonly instanceId: string;
  readonly events: ForwardEvent[] = [];
  private readonly bySpot = new Map<string, ForwardEvent[]>();
  readonly cursors = new Map<string, number>();
  readonly cursorWrites: Array<{ spot: string; id: number }> = [];
  private readonly listeners = new Set<(spot: string, lastId: number, events?: readonly ForwardEvent[]) => void>();
  private nextId = 1;
  failReads = false;
  failCursorReads = false;
  /** Simulates cursor writes not yet persisted when the gateway dies: acks after this are forgotten. */
  freezeCursors = false;
  /** Hands the appended events to listeners, as the real store does (false: only spot and last id). */
  handOver = true;
  /** Store reads per spot, to tell live-tail forwarding from reading back. */
  readCount = 0;

  constructor(instanceId = 'test-instance') {
    this.instanceId = instanceId;
  }

  /** Stores events (like one committed batch) and notifies listeners once per spot. */
  append(...items: Array<Omit<ForwardEvent, 'id'>>): number[] {
    const last = new Map<string, number>();
    const bySpot = new Map<string, ForwardEvent[]>();
    const ids: number[] = [];
    for (const item of items) {
      const event = { ...item, id: this.nextId++ };
      this.events.push(event);
      let list = this.bySpot.get(event.spot);
      if (!list) this.bySpot.set(event.spot, (list = []));
      list.push(event);
      last.set(event.spot, event.id);
      bySpot.set(event.spot, [...(bySpot.get(event.spot) ?? []), event]);
      ids.push(event.id);
    }
    for (const [spot, id] of last) for (const listener of this.listeners) listener(spot, id, this.handOver ? bySpot.get(spot) : undefined);
    return ids;
  }

  pendingSpots(_upstream: string): SpotBacklog[] {
    return [...this.bySpot]
      .map(([spot, list]) => ({ spot, lastId: list[list.length - 1]!.id, cursor: this.cursors.get(spot) ?? 0 }))
      .filter((b) => b.lastId > b.cursor);
  }

  readSpot(_upstream: string, spot: string, afterId: number, limit: number): ForwardEvent[] {
    if (this.failReads) throw new Error('disk I/O error');
    this.readCount++;
    const list = this.bySpot.get(spot) ?? [];
    const from = firstAbove(list, afterId);
    return list.slice(from, from + limit);
  }

  advanceCursor(_upstream: string, spot: string, id: number): void {
    this.cursorWrites.push({ spot, id });
    if (this.freezeCursors) return;
    if (id > (this.cursors.get(spot) ?? 0)) this.cursors.set(spot, id);
  }

  cursor(_upstream: string, spot: string): number {
    if (this.failCursorReads) throw new Error('database is locked');
    return this.cursors.get(spot) ?? 0;
  }

  onAppended(listener: (spot: string, lastId: number, events?: readonly ForwardEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): { perUpstream: Record<string, { pending: number }> } {
    let pending = 0;
    for (const [spot, list] of this.bySpot) pending += list.length - firstAbove(list, this.cursors.get(spot) ?? 0);
    return { perUpstream: { mqtt: { pending } } };
  }
}

/** Index of the first event with id > afterId (ids ascend). */
function firstAbove(list: ForwardEvent[], afterId: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.id <= afterId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function jsonEvent(spot: string, n: number, resource = 'presence', action = 'create', timeReceived = Date.now()): Omit<ForwardEvent, 'id'> {
  return { spot, resource, action, data: JSON.stringify({ n, item_code: `e2801170000002${String(n).padStart(10, '0')}` }), pb: null, timeReceived };
}
