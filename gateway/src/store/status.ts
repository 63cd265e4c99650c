// What the store reports about itself and its backlog: status() and pendingSpots(), at a cost
// independent of the number of spots known (docs/storage.md, "Cost per spot", "Status").
import type { Backlog } from './backlog.js';
import type { Connection } from './connection.js';
import type { CursorBook } from './cursors.js';
import type { EventLog } from './event-log.js';
import type { GroupCommitter } from './group-commit.js';
import type { Recovery } from './recovery.js';
import type { RejectedMessages } from './rejected-log.js';
import type { RetentionMarks } from './retention-marks.js';
import type { SizeCap } from './size-cap.js';
import type { PendingSpot, StoreStatus } from './types.js';

/** Stored events looked at, at most, for the oldest unforwarded one. */
const OLDEST_SCAN_ROWS = 1000;

export interface StatusParts {
  conn: Connection;
  upstreams: readonly string[];
  log: EventLog;
  cursors: CursorBook;
  backlog: Backlog;
  cap: SizeCap;
  marks: RetentionMarks;
  committer: GroupCommitter;
  recovery: Recovery;
  rejected: RejectedMessages;
  /** Wall-clock milliseconds: the age of the oldest unforwarded event. */
  now: () => number;
}

export class StoreReport {
  constructor(private readonly p: StatusParts) {}

  /** Throws for an upstream the store was not opened with. */
  knownUpstream(upstream: string): void {
    const { upstreams } = this.p;
    if (!upstreams.includes(upstream)) {
      throw new Error(`store: unknown upstream "${upstream}" (configured: ${upstreams.join(', ') || 'none'})`);
    }
  }

  /** O(spots with a backlog): backlog.ts. */
  pendingSpots(upstream: string): PendingSpot[] {
    this.knownUpstream(upstream);
    const { backlog, cursors, log } = this.p;
    const out: PendingSpot[] = [];
    for (const spot of backlog.spots(upstream)) out.push({ spot, cursor: cursors.get(upstream, spot), lastId: log.lastIdBySpot.get(spot) ?? 0 });
    return out;
  }

  /**
   * Every unforwarded event is at or above the lowest id some spot still needs: the first of the
   * stored events from there whose spot's common cursor is below it (the others are forwarded
   * events not pruned yet, a few at most).
   */
  private oldestUnforwardedTime(): number | null {
    const { upstreams, log, backlog, cursors } = this.p;
    if (upstreams.length === 0) return log.oldestTime();
    if (!backlog.lagging) return null;
    let last: number | null = null;
    for (const e of log.scanFrom(backlog.keepFrom(log.highestId), OLDEST_SCAN_ROWS)) {
      if (e.id > cursors.minFor(e.spot)) return e.timeReceived;
      last = e.timeReceived;
    }
    // Past the scan's bound: the age shown is at most that much too old.
    return last;
  }

  /** What the old count did: one indexed count per spot with a backlog (after a load or a drop only). */
  private recountPending(upstream: string): number {
    const { log, backlog, cursors } = this.p;
    const lowest = log.lowestId();
    let events = 0;
    for (const spot of backlog.spots(upstream)) events += log.countAfter(spot, cursors.get(upstream, spot), lowest);
    return events;
  }

  status(): StoreStatus {
    const { conn, upstreams, log, backlog, cap, committer, recovery, rejected, now } = this.p;
    const oldest = committer.isClosed ? null : this.oldestUnforwardedTime();
    const perUpstream: StoreStatus['perUpstream'] = {};
    for (const u of upstreams) {
      const pending = committer.isClosed ? new Set<string>() : backlog.spots(u);
      perUpstream[u] = { pending: pending.size === 0 ? 0 : backlog.pendingCount(u, (upstream) => this.recountPending(upstream)), spotsPending: pending.size };
    }
    return {
      events: log.count,
      bytes: conn.diskBytes(),
      maxBytes: cap.budget.maxBytes,
      policy: cap.policy,
      oldestUnforwardedAgeMs: oldest === null ? null : Math.max(0, now() - oldest),
      dropped: cap.dropped,
      lastDropAtMs: cap.lastDropAt,
      refusing: cap.refusing,
      duplicates: log.duplicatesTotal,
      rejected: rejected.count(),
      commits: committer.commits,
      walSync: committer.syncTimes.snapshot(),
      lastError: recovery.lastError,
      retainMs: this.p.marks.retainMs,
      historyFrom: this.p.marks.historyFrom,
      perUpstream,
    };
  }
}
