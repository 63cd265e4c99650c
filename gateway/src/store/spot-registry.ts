// The spots table: the recently heard-from spots in memory (the truth for them), the others read from
// the table when asked; changes are written with the next group commit.
import type { Connection } from './connection.js';
import type { PostRecord, SpotPage, SpotRecord, SpotRegistry } from './types.js';

interface SpotRow {
  serial: string;
  firmware_version: string | null;
  first_seen: number;
  last_seen: number;
  posts: number;
  events: number;
  rejected: number;
  duplicates: number;
  spot_create: string | null;
  config_create: string | null;
  config: string | null;
}

function parseObject(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function fromRow(r: SpotRow): SpotRecord {
  return {
    serial: r.serial,
    firmwareVersion: r.firmware_version,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    posts: r.posts,
    events: r.events,
    rejected: r.rejected,
    duplicates: r.duplicates,
    spotCreate: parseObject(r.spot_create),
    configCreate: parseObject(r.config_create),
    config: parseObject(r.config),
  };
}

function copy(r: SpotRecord): SpotRecord {
  return {
    ...r,
    spotCreate: r.spotCreate && { ...r.spotCreate },
    configCreate: r.configCreate && { ...r.configCreate },
    config: r.config && { ...r.config },
  };
}

/** Registry entries kept in memory (least recently used go first; entries not yet written stay). */
export const REGISTRY_CACHE = 4096;
const EVICT_LOOK = 64;

export class SpotTable implements SpotRegistry {
  /** Recently used entries, least recently used first; every dirty one is here. */
  private readonly spots = new Map<string, SpotRecord>();
  private dirty = new Set<string>();
  /** Spots in the table plus those not written yet. */
  private known = 0;

  constructor(
    private readonly conn: Connection,
    private readonly now: () => number,
    private readonly requestFlush: () => void,
    private readonly cacheSize = REGISTRY_CACHE,
  ) {}

  /** Counts the rows (reading every page of the table: damage is found at open). */
  load(): void {
    this.spots.clear();
    this.known = (this.conn.stmt('SELECT count(*) AS n FROM spots').get() as { n: number }).n;
  }

  /** The entry, from memory or the table (then kept in memory as the most recently used). */
  private lookup(serial: string): SpotRecord | undefined {
    let s = this.spots.get(serial);
    if (s) {
      this.spots.delete(serial);
    } else {
      const row = this.conn.stmt('SELECT * FROM spots WHERE serial = ?').get(serial) as SpotRow | undefined;
      if (!row) return undefined;
      s = fromRow(row);
    }
    this.spots.set(serial, s);
    this.evict();
    return s;
  }

  /**
   * Towards the cache size, least recently used first, never an entry not written yet. Looks at a
   * few entries per call: while writes fail, unwritten entries pile up at the front.
   */
  private evict(): void {
    let looked = 0;
    for (const serial of this.spots.keys()) {
      if (this.spots.size <= this.cacheSize || looked++ >= EVICT_LOOK) return;
      if (!this.dirty.has(serial)) this.spots.delete(serial);
    }
  }

  private entry(serial: string, now: number): SpotRecord {
    let s = this.lookup(serial);
    if (!s) {
      s = {
        serial,
        firmwareVersion: null,
        firstSeen: now,
        lastSeen: now,
        posts: 0,
        events: 0,
        rejected: 0,
        duplicates: 0,
        spotCreate: null,
        configCreate: null,
        config: null,
      };
      this.spots.set(serial, s);
      this.known++;
    }
    this.dirty.add(serial);
    this.requestFlush();
    return s;
  }

  recordPost(serial: string, post: PostRecord): void {
    const s = this.entry(serial, post.now);
    s.lastSeen = Math.max(s.lastSeen, post.now);
    if (post.firmwareVersion) s.firmwareVersion = post.firmwareVersion;
    s.posts += post.posts ?? 1;
    s.events += post.events;
    s.rejected += post.rejected;
    s.duplicates += post.duplicates;
  }

  touch(serial: string, seen: { now: number; firmwareVersion?: string | null }): void {
    const s = this.entry(serial, seen.now);
    s.lastSeen = Math.max(s.lastSeen, seen.now);
    if (seen.firmwareVersion) s.firmwareVersion = seen.firmwareVersion;
  }

  recordSpotCreate(serial: string, obj: Record<string, unknown>): void {
    this.entry(serial, this.now()).spotCreate = { ...obj };
  }

  recordConfigCreate(serial: string, obj: Record<string, unknown>): void {
    const s = this.entry(serial, this.now());
    s.configCreate = { ...obj };
    s.config = { ...obj };
  }

  mergeConfig(serial: string, partial: Record<string, unknown>): void {
    const s = this.entry(serial, this.now());
    s.config = { ...(s.config ?? {}), ...partial };
  }

  get(serial: string): SpotRecord | null {
    const s = this.lookup(serial);
    return s ? copy(s) : null;
  }

  /** Spots known (O(1)). */
  count(): number {
    return this.known;
  }

  /** When the spot was last heard from, null when unknown (not kept in memory for the asking). */
  lastSeenOf(serial: string): number | null {
    const s = this.spots.get(serial);
    if (s) return s.lastSeen;
    const row = this.conn.stmt('SELECT last_seen FROM spots WHERE serial = ?').pluck().get(serial) as number | undefined;
    return row ?? null;
  }

  /** forget.ts deleted its row: gone from memory too, with any pending write. */
  forget(serial: string): void {
    this.spots.delete(serial);
    this.dirty.delete(serial);
    this.known--;
  }

  /**
   * A page of spots in serial order as text (the table's key: "10" before "9"): after a serial
   * ascending, before one descending, at most `limit`. The table's rows with the entries in memory
   * over them, and the entries not written yet merged in.
   */
  page(page: SpotPage): SpotRecord[] {
    const down = page.before !== undefined;
    const bound = page.before ?? page.after;
    const rows = (
      down
        ? this.conn.stmt('SELECT * FROM spots WHERE serial < ? ORDER BY serial DESC LIMIT ?').all(bound, page.limit)
        : bound === undefined
          ? this.conn.stmt('SELECT * FROM spots ORDER BY serial LIMIT ?').all(page.limit)
          : this.conn.stmt('SELECT * FROM spots WHERE serial > ? ORDER BY serial LIMIT ?').all(bound, page.limit)
    ) as SpotRow[];
    const found = new Map<string, SpotRecord>();
    for (const row of rows) found.set(row.serial, this.spots.get(row.serial) ?? fromRow(row));
    const inRange = (serial: string): boolean => bound === undefined || (down ? serial < bound : serial > bound);
    for (const [serial, s] of this.spots) if (inRange(serial)) found.set(serial, s);
    const order = down ? -1 : 1;
    return [...found.values()]
      .sort((a, b) => (a.serial < b.serial ? -order : a.serial > b.serial ? order : 0))
      .slice(0, page.limit)
      .map(copy);
  }

  /**
   * After the file was replaced: what memory holds is written again. Entries only in the damaged
   * file (spots not heard from recently) are not: they are registered again when they post.
   */
  markAllDirty(): void {
    for (const serial of this.spots.keys()) this.dirty.add(serial);
    this.known = this.spots.size;
  }

  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  /** Inside the caller's transaction; returns the serials written so a failed commit can requeue them. */
  writeDirty(): string[] {
    const taken = [...this.dirty];
    this.dirty = new Set();
    const upsert = this.conn.stmt(
      `INSERT INTO spots (serial, firmware_version, first_seen, last_seen, posts, events, rejected, duplicates, spot_create, config_create, config)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (serial) DO UPDATE SET firmware_version = excluded.firmware_version, first_seen = excluded.first_seen,
         last_seen = excluded.last_seen, posts = excluded.posts, events = excluded.events, rejected = excluded.rejected,
         duplicates = excluded.duplicates, spot_create = excluded.spot_create, config_create = excluded.config_create,
         config = excluded.config`,
    );
    const json = (o: Record<string, unknown> | null): string | null => (o === null ? null : JSON.stringify(o));
    for (const serial of taken) {
      const s = this.spots.get(serial);
      if (!s) continue;
      upsert.run(
        s.serial,
        s.firmwareVersion,
        s.firstSeen,
        s.lastSeen,
        s.posts,
        s.events,
        s.rejected,
        s.duplicates,
        json(s.spotCreate),
        json(s.configCreate),
        json(s.config),
      );
    }
    return taken;
  }

  requeue(serials: string[]): void {
    for (const s of serials) this.dirty.add(s);
  }
}
