// When committed events are handed to the upstreams: once their WAL fsync is done (default), or
// (buffer.forward: after-commit) at COMMIT, ahead of the fsync. Spots are acknowledged after the
// fsync either way. docs/storage.md, "Forwarding before the fsync".
import type { Connection } from './connection.js';
import type { AppendOutcome, NewEvent, StoredEvent } from './types.js';

/**
 * Ids handed over ahead of the fsync stay within this distance of the highest durable id, and
 * after an unclean stop of a store that forwards ahead of the disk the id sequence moves on by
 * it: an id forwarded and then lost with the power is never given to another event. Durability
 * normal has no fsync to bound it by, only the kernel's writeback (about 30 s of events): the
 * margin is far above what a gateway stores in that time, and 2^53 leaves room for millions.
 */
export const FORWARD_ID_MARGIN = 1_000_000_000;

const FLAG = 'forwarding_unsynced';

export class ForwardGate {
  /** Commits handed over at their fsync, not yet synced: later ones wait behind them (order per spot). */
  private waiting = 0;

  constructor(
    readonly afterCommit: boolean,
    /** Highest id whose fsync completed. */
    private durableId: number,
    /** Events go upstream before the disk has them (after-commit, or durability normal/off). */
    readonly aheadOfDisk: boolean,
  ) {}

  /** At COMMIT of ids up to `highestId`: true = hand them over now; false = at their fsync, then call synced(). */
  atCommit(highestId: number): boolean {
    if (this.afterCommit && this.waiting === 0 && highestId <= this.durableId + FORWARD_ID_MARGIN) return true;
    this.waiting++;
    return false;
  }

  /** The fsync of a commit is done (or failed: `handedOver` false and nothing durable). */
  synced(highestId: number, deferred: boolean, ok: boolean): void {
    if (deferred) this.waiting--;
    if (ok && highestId > this.durableId) this.durableId = highestId;
  }
}

/**
 * At open, before the events log is loaded: a file left by an unclean stop of a store that
 * forwarded ahead of the disk (after-commit, or durability normal/off, which have no fsync) may
 * have had ids forwarded that the disk never got; the sequence moves past them. Then the flag
 * is set for this run (cleared again by a clean close) and made durable. Returns the ids skipped.
 */
export function prepareForwarding(conn: Connection, aheadOfDisk: boolean): number {
  const row = conn.stmt('SELECT value FROM meta WHERE key = ?').get(FLAG) as { value: string } | undefined;
  let skipped = 0;
  conn.raw.transaction(() => {
    if (row?.value === '1') {
      const seq = conn.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
      if (seq) conn.stmt("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'").run(seq.seq + FORWARD_ID_MARGIN);
      else conn.stmt("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)").run(FORWARD_ID_MARGIN);
      skipped = FORWARD_ID_MARGIN;
    }
    setForwardingFlag(conn, aheadOfDisk);
  })();
  // Without the store's own WAL fsync (durability normal), a checkpoint syncs the file.
  if (conn.walSync) conn.walSync.syncNow();
  else conn.raw.pragma('wal_checkpoint(FULL)');
  return skipped;
}

/** Marks the file as written by a store that forwards ahead of the disk (also on a file rebuilt after damage). */
export function setForwardingFlag(conn: Connection, aheadOfDisk: boolean): void {
  conn.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(FLAG, aheadOfDisk ? '1' : '0');
}

/** A clean close: nothing was forwarded that the disk does not hold. */
export function forwardingClosedCleanly(conn: Connection): void {
  conn.stmt("UPDATE meta SET value = '0' WHERE key = ?").run(FLAG);
}

/**
 * The events a commit stored (retransmissions left out), per spot in id order. The appended
 * objects themselves get their id (append takes them over): copying each cost a few % of the CPU.
 */
export function committedBySpot(batch: readonly { events: NewEvent[] }[], outcomes: AppendOutcome[][]): Map<string, StoredEvent[]> {
  const bySpot = new Map<string, StoredEvent[]>();
  for (let i = 0; i < batch.length; i++) {
    const events = batch[i]!.events;
    const done = outcomes[i] ?? [];
    for (let j = 0; j < events.length; j++) {
      const outcome = done[j];
      if (!outcome || !('id' in outcome)) continue;
      const stored = events[j] as StoredEvent;
      stored.id = outcome.id;
      let list = bySpot.get(stored.spot);
      if (!list) bySpot.set(stored.spot, (list = []));
      list.push(stored);
    }
  }
  return bySpot;
}
