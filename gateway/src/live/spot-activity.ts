// What the dashboard shows per spot beyond the registry: events per second, presences now, and its recent events.
import { RateMeter } from '../upstream/rate.js';
import type { StoredEvent } from '../store/types.js';

/** A committed event as the live feed sends it; `data` is the stored compact JSON text. */
export interface RecentEvent {
  id: number;
  spot: string;
  resource: string;
  action: string;
  data: string;
  timeReceived: number;
}

export interface SpotActivityOptions {
  now: () => number;
  /** Events kept per spot for a page that opens (default 50)... */
  recentPerSpot?: number;
  /** ...and at most this many bytes of their data (default 64 KiB), so a spot of large events holds fewer. */
  recentBytesPerSpot?: number;
  /** Presences counted per spot at most (default 10000): a spot that never deletes cannot grow memory. */
  maxPresencesPerSpot?: number;
  /** Spots followed at most (default 1024), the least recently heard from forgotten first: invented serials cannot grow memory. */
  maxSpots?: number;
  /** Presences counted over all spots at most (default 100000); past it new ones are not counted. */
  maxPresences?: number;
}

interface SpotState {
  rate: RateMeter;
  /** Item codes of presences created and not yet deleted, since the gateway started or the spot rebooted. */
  presences: Set<string>;
  recent: RecentEvent[];
  recentBytes: number;
}

/** Fed with every commit (store.onAppended); answers from memory, never from the store. */
export class SpotActivity {
  private readonly spots = new Map<string, SpotState>();
  private readonly recentPerSpot: number;
  private readonly recentBytesPerSpot: number;
  private readonly maxPresences: number;
  private readonly maxSpots: number;
  private readonly maxTotalPresences: number;
  private totalPresences = 0;

  constructor(private readonly options: SpotActivityOptions) {
    this.recentPerSpot = options.recentPerSpot ?? 50;
    this.recentBytesPerSpot = options.recentBytesPerSpot ?? 65536;
    this.maxPresences = options.maxPresencesPerSpot ?? 10000;
    this.maxSpots = Math.max(1, options.maxSpots ?? 1024);
    this.maxTotalPresences = options.maxPresences ?? 100_000;
  }

  /** Spots followed now (at most maxSpots). */
  get size(): number {
    return this.spots.size;
  }

  /** Events of one spot from one commit, in id order. */
  record(spot: string, events: readonly StoredEvent[]): RecentEvent[] {
    const state = this.state(spot);
    state.rate.add(events.length);
    const recent: RecentEvent[] = [];
    for (const e of events) {
      this.notePresence(state, e);
      const item = { id: e.id, spot, resource: e.resource, action: e.action, data: e.data, timeReceived: e.timeReceived };
      recent.push(item);
      state.recent.push(item);
      state.recentBytes += item.data.length;
    }
    while (state.recent.length > this.recentPerSpot || (state.recent.length > 1 && state.recentBytes > this.recentBytesPerSpot)) {
      state.recentBytes -= state.recent.shift()!.data.length;
    }
    return recent;
  }

  eventsPerSecond(spot: string): number {
    return this.spots.get(spot)?.rate.perSecond() ?? 0;
  }

  /** Presences the spot reported created and not deleted since it (or the gateway) started; null when nothing was heard since. */
  presences(spot: string): number | null {
    return this.spots.get(spot)?.presences.size ?? null;
  }

  /** Its latest events, oldest first. */
  recent(spot: string): readonly RecentEvent[] {
    return this.spots.get(spot)?.recent ?? [];
  }

  private notePresence(state: SpotState, e: StoredEvent): void {
    if (e.resource === 'spot' && e.action === 'create') {
      // A spot that boots has no presences until it reports them again.
      this.totalPresences -= state.presences.size;
      state.presences.clear();
      return;
    }
    if (e.resource !== 'presence' || (e.action !== 'create' && e.action !== 'delete')) return;
    const code = itemCode(e.data);
    if (code === null) return;
    if (e.action === 'delete') {
      if (state.presences.delete(code)) this.totalPresences--;
    } else if (state.presences.size < this.maxPresences && this.totalPresences < this.maxTotalPresences && !state.presences.has(code)) {
      state.presences.add(code);
      this.totalPresences++;
    }
  }

  /** The spot's state, moved to the most recent end (a Map keeps insertion order); the least recent goes past maxSpots. */
  private state(spot: string): SpotState {
    let state = this.spots.get(spot);
    if (state) {
      this.spots.delete(spot);
    } else {
      state = { rate: new RateMeter(this.options.now, 10), presences: new Set(), recent: [], recentBytes: 0 };
      if (this.spots.size >= this.maxSpots) this.forgetLeastRecent();
    }
    this.spots.set(spot, state);
    return state;
  }

  private forgetLeastRecent(): void {
    const oldest = this.spots.keys().next();
    if (oldest.done) return;
    this.totalPresences -= this.spots.get(oldest.value)!.presences.size;
    this.spots.delete(oldest.value);
  }
}

/** The stored data is compact JSON: a match finds the key without parsing every presence event. */
const ITEM_CODE = /"item_code":"((?:[^"\\]|\\.)*)"/;

function itemCode(data: string): string | null {
  return ITEM_CODE.exec(data)?.[1] ?? null;
}
