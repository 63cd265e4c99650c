// Cursor advances, registry updates and rejected messages ride along with a group commit, at most
// every SIDE_WORK_DELAY_MS: 200 cursor upserts in every commit cost as much as the events. Until
// written, a cursor is only behind (redelivery).
import type { Connection } from './connection.js';
import type { CursorBook } from './cursors.js';
import type { RejectedMessages } from './rejected-log.js';
import type { SpotTable } from './spot-registry.js';

/** Cursor advances, registry updates and rejected messages wait at most this long. */
export const SIDE_WORK_DELAY_MS = 50;

export class SideWrites {
  private lastAt = -Infinity;
  /** What the transaction in progress took: queued again if it fails. */
  private cursorsTaken: ReturnType<CursorBook['writeDirty']> = [];
  private spotsTaken: string[] = [];
  private rejectedTaken: ReturnType<RejectedMessages['writeQueued']> = [];

  constructor(
    private readonly conn: Connection,
    private readonly cursors: CursorBook,
    private readonly spots: SpotTable,
    private readonly rejected: RejectedMessages,
  ) {}

  /** Something waits to be written. */
  get pending(): boolean {
    return this.cursors.hasDirty || this.spots.hasDirty || this.rejected.hasQueued;
  }

  /** Inside the caller's transaction, when the last write was SIDE_WORK_DELAY_MS before `clock` (or `now`). */
  writeIfDue(clock: number, now: boolean): void {
    if (!now && clock - this.lastAt < SIDE_WORK_DELAY_MS) return;
    this.cursorsTaken = this.cursors.writeDirty(this.conn);
    this.spotsTaken = this.spots.writeDirty();
    this.rejectedTaken = this.rejected.writeQueued();
    this.lastAt = clock;
  }

  /** The transaction failed: what it took is written with a later one. */
  requeue(): void {
    this.cursors.requeue(this.cursorsTaken);
    this.spots.requeue(this.spotsTaken);
    this.rejected.requeue(this.rejectedTaken);
    this.committed();
  }

  /** The transaction committed: what it took is written. */
  committed(): void {
    this.cursorsTaken = [];
    this.spotsTaken = [];
    this.rejectedTaken = [];
  }
}
