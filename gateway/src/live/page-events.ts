// The events a dashboard spot page opens with: the store's newest (the history buffer.retain keeps,
// also across restarts) merged with the memory ring (events already pruned from the store with retain 0).
import type { Store } from '../store/types.js';
import type { RecentEvent, SpotActivity } from './spot-activity.js';

/** Events a spot page opens with; bounded like the memory ring. */
const PAGE_EVENTS = 50;
const PAGE_EVENT_BYTES = 65536;

/**
 * A spot page opens with the spot's newest events: the store's (history kept by buffer.retain,
 * also across restarts) and those in memory (pruned from the store already with retain 0).
 */
export function recentOfSpot(store: Pick<Store, 'newestEvents'>, activity: Pick<SpotActivity, 'recent'>, spot: string): RecentEvent[] {
  const byId = new Map<number, RecentEvent>();
  for (const e of store.newestEvents(spot, PAGE_EVENTS)) byId.set(e.id, e);
  for (const e of activity.recent(spot)) byId.set(e.id, e);
  const all = [...byId.values()].sort((a, b) => a.id - b.id);
  const out: RecentEvent[] = [];
  let bytes = 0;
  for (let i = all.length - 1; i >= 0 && out.length < PAGE_EVENTS; i--) {
    bytes += all[i]!.data.length;
    if (out.length > 0 && bytes > PAGE_EVENT_BYTES) break;
    out.push(all[i]!);
  }
  return out.reverse();
}
