// A spot's newest stored events, for the dashboard's spot page when it opens: the memory tier of
// the per-spot index first, then event_spots from the top (spot-index.ts), one bounded read each.
import type { Connection } from './connection.js';
import type { SpotIndex } from './spot-index.js';

export interface HistoryRow {
  id: number;
  spot: string;
  resource: string;
  action: string;
  data: string;
  timeReceived: number;
}

const COLUMNS = 'e.id, e.spot, e.resource, e.action, e.data, e.time_received AS timeReceived';

/** At most `limit` of the spot's newest stored events, oldest first. */
export function newestOfSpot(conn: Connection, index: SpotIndex, spot: string, limit: number): HistoryRow[] {
  const recentIds = index.recentAfter(spot, index.upto, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).slice(-limit);
  let older: HistoryRow[] = [];
  if (recentIds.length < limit) {
    older = (
      conn
        .stmt(`SELECT ${COLUMNS} FROM event_spots s JOIN events e ON e.id = s.id WHERE s.spot = ? AND s.id <= ? ORDER BY s.id DESC LIMIT ?`)
        .all(spot, index.upto, limit - recentIds.length) as HistoryRow[]
    ).reverse();
  }
  if (recentIds.length === 0) return older;
  const recent = conn
    .stmt(`SELECT ${COLUMNS} FROM events e WHERE e.id IN (SELECT value FROM json_each(?)) ORDER BY e.id`)
    .all(JSON.stringify(recentIds)) as HistoryRow[];
  return [...older, ...recent];
}
