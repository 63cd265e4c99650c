// What the forwarder needs from the store: a cursor API. The real store satisfies it structurally.
import type { QuarantineBook, StoredEvent } from '../store/types.js';
import type { SpotBacklog } from './scheduler.js';

export type ForwardEvent = Pick<StoredEvent, 'id' | 'spot' | 'resource' | 'action' | 'data' | 'pb' | 'timeReceived'>;

export interface ForwardSource {
  /** Created once with the database: makes `<instanceId>:<id>` unique and stable. */
  readonly instanceId: string;
  /** Spots with events above the upstream's cursor. */
  pendingSpots(upstream: string): SpotBacklog[];
  /** Up to `limit` events of `spot` with id > afterId, in id order. */
  readSpot(upstream: string, spot: string, afterId: number, limit: number): ForwardEvent[];
  /** Everything of `spot` up to `id` is acknowledged upstream. */
  advanceCursor(upstream: string, spot: string, id: number): void;
  cursor(upstream: string, spot: string): number;
  /**
   * Called after each commit with the spot, its highest stored id and (optionally) the events that
   * commit stored for it, in id order. Returns the unsubscribe function.
   */
  onAppended(listener: (spot: string, lastId: number, events?: readonly ForwardEvent[]) => void): () => void;
  /** Optional: where poison events are kept (the store's); without it the forwarder never suspects or quarantines. */
  readonly quarantine?: QuarantineBook;
  /** Optional: per upstream, stored events not yet acknowledged (the lag shown in status). */
  status?(): { perUpstream: Record<string, { pending: number }> };
}

/** Stored events `upstream` has not had acknowledged, or null when the source cannot count (or fails to). */
export function lagOf(source: Pick<ForwardSource, 'status'>, upstream: string): number | null {
  try {
    return source.status?.().perUpstream[upstream]?.pending ?? null;
  } catch {
    return null;
  }
}
