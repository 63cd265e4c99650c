// Commands for spots: durable, ordered per spot, with a TTL. queued -> delivered | expired | failed.
import type { Connection } from './connection.js';
import type { Command, CommandInput, CommandPage, CommandQueue, CommandState, StoreUnavailableError } from './types.js';

export const DEFAULT_COMMAND_TTL_MS = 3_600_000;
/** Delivered, expired and failed commands are kept this long for the API, then forgotten. */
export const KEEP_FINISHED_MS = 7 * 24 * 3_600_000;
const FORGET_BATCH = 500;

interface CommandRow {
  id: number;
  spot: string;
  resource: string;
  action: string;
  data: string;
  source: string;
  state: CommandState;
  time_queued: number;
  time_delivered: number | null;
  time_expires: number;
  time_failed: number | null;
  cut_replies: number;
  size: number;
}

/** Bytes of the JSON message ["<resource>","<action>",<data>]: names need no escaping (validated commands). */
const SIZE = 'length(CAST(data AS BLOB)) + length(CAST(resource AS BLOB)) + length(CAST(action AS BLOB)) + 8';
const COLUMNS = `*, ${SIZE} AS size`;

/** The size a command's JSON message has, as SIZE computes it for a stored row. */
export function commandSize(resource: string, action: string, data: string): number {
  return Buffer.byteLength(data) + Buffer.byteLength(resource) + Buffer.byteLength(action) + 8;
}

function fromRow(r: CommandRow): Command {
  return {
    id: r.id,
    spot: r.spot,
    resource: r.resource,
    action: r.action,
    data: r.data,
    source: r.source,
    state: r.state,
    timeQueued: r.time_queued,
    timeDelivered: r.time_delivered,
    timeExpires: r.time_expires,
    timeFailed: r.time_failed,
    cutReplies: r.cut_replies,
    size: r.size,
  };
}

/**
 * Rows in order while their sizes fit in maxBytes (the first always); stops reading at the first that does
 * not. With passOversized, a row larger than maxBytes by itself is taken without counting, for the caller to fail.
 */
function takeWithin(rows: Iterable<CommandRow>, limit: number, maxBytes: number, passOversized = false): Command[] {
  const taken: Command[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (taken.length >= limit) break;
    if (passOversized && row.size > maxBytes) {
      taken.push(fromRow(row));
      continue;
    }
    if (taken.length > 0 && bytes + row.size > maxBytes) break;
    bytes += row.size;
    taken.push(fromRow(row));
  }
  return taken;
}

function* skipWithheld(rows: Iterable<CommandRow>, withheld: ReadonlySet<number>): Generator<CommandRow> {
  for (const row of rows) if (!withheld.has(row.id)) yield row;
}

/** Runs a write in its own committed transaction, or throws StoreUnavailableError (quarantine, forgetting spots: fsynced before it returns). */
export type DurableWrite = <T>(write: () => T) => T;

/**
 * Commits a write in its own transaction now, without waiting for the disk, or throws StoreUnavailableError;
 * `synced` runs once an fsync started after that COMMIT has finished (null) or failed (its error).
 */
export type CommitNow = <T>(write: () => T, synced?: (err: StoreUnavailableError | null) => void) => T;

export class CommandTable implements CommandQueue {
  /** Committed, not yet on disk (or their fsync failed and the withdrawal could not be written): no spot gets them. */
  private readonly withheld = new Set<number>();

  constructor(
    private readonly conn: Connection,
    private readonly commitNow: CommitNow,
    private readonly now: () => number,
  ) {}

  async enqueue(spot: string, input: CommandInput): Promise<Command> {
    const ttl = input.ttlMs ?? DEFAULT_COMMAND_TTL_MS;
    if (!(ttl > 0)) throw new RangeError(`command for spot ${spot}: ttlMs must be positive, got ${ttl}`);
    const queued = this.now();
    let id = 0;
    const insert = (): void => {
      id = Number(
        this.conn
          .stmt(
            `INSERT INTO commands (spot, resource, action, data, source, state, time_queued, time_expires)
             VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)`,
          )
          .run(spot, input.resource, input.action, input.data, input.source, queued, queued + ttl).lastInsertRowid,
      );
      this.withheld.add(id);
    };
    let synced!: (err: StoreUnavailableError | null) => void;
    const onDisk = new Promise<StoreUnavailableError | null>((resolve) => (synced = resolve));
    try {
      // Committed in this call's turn; without a store fsync (durability normal/off) `synced` runs before it returns.
      this.commitNow(insert, synced);
    } catch (err) {
      this.withheld.delete(id);
      throw err;
    }
    const failed = await onDisk;
    if (failed) {
      this.withdraw(id);
      throw failed;
    }
    this.withheld.delete(id);
    return {
      id,
      spot,
      resource: input.resource,
      action: input.action,
      data: input.data,
      source: input.source,
      state: 'queued',
      timeQueued: queued,
      timeDelivered: null,
      timeExpires: queued + ttl,
      timeFailed: null,
      cutReplies: 0,
      size: commandSize(input.resource, input.action, input.data),
    };
  }

  /** Its fsync failed and the caller is told so: the command is failed now, so the caller's retry is the only copy that goes out. */
  private withdraw(id: number): void {
    try {
      this.commitNow(() => this.conn.stmt("UPDATE commands SET state = 'failed', time_failed = ? WHERE id = ? AND state = 'queued'").run(this.now(), id));
      this.withheld.delete(id);
    } catch {
      // Stays withheld while the gateway runs (docs/storage.md, "Commands and the disk").
    }
  }

  pendingFor(spot: string, now: number, maxBytes = Number.POSITIVE_INFINITY): Command[] {
    const rows = this.conn
      .stmt(`SELECT ${COLUMNS} FROM commands WHERE spot = ? AND state = 'queued' AND time_expires > ? ORDER BY id`)
      .iterate(spot, now) as IterableIterator<CommandRow>;
    return takeWithin(this.withheld.size === 0 ? rows : skipWithheld(rows, this.withheld), Number.POSITIVE_INFINITY, maxBytes, true);
  }

  queuedTotals(spot: string, now: number): { count: number; bytes: number } {
    return this.conn
      .stmt(`SELECT count(*) AS count, coalesce(sum(${SIZE}), 0) AS bytes FROM commands WHERE spot = ? AND state = 'queued' AND time_expires > ?`)
      .get(spot, now) as { count: number; bytes: number };
  }

  markFailed(ids: number[], now: number): number {
    return this.transition(ids, "UPDATE commands SET state = 'failed', time_failed = ? WHERE id = ? AND state = 'queued'", now);
  }

  private transition(ids: number[], sql: string, now: number): number {
    if (ids.length === 0) return 0;
    // Prepared inside: on a closed store commitNow throws its StoreUnavailableError first.
    return this.commitNow(() => {
      const stmt = this.conn.stmt(sql);
      return ids.reduce((n, id) => n + stmt.run(now, id).changes, 0);
    });
  }

  markDelivered(ids: number[], now: number): number {
    return this.transition(
      ids,
      "UPDATE commands SET state = 'delivered', time_delivered = ? WHERE id = ? AND state = 'queued'",
      now,
    );
  }

  noteCutReply(ids: number[], now: number, maxCutReplies: number): number[] {
    if (ids.length === 0) return [];
    return this.commitNow(() => {
      const bump = this.conn.stmt("UPDATE commands SET cut_replies = cut_replies + 1 WHERE id = ? AND state = 'queued' RETURNING cut_replies");
      const fail = this.conn.stmt("UPDATE commands SET state = 'failed', time_failed = ? WHERE id = ? AND state = 'queued'");
      const failed: number[] = [];
      for (const id of ids) {
        const row = bump.get(id) as { cut_replies: number } | undefined;
        if (!row || row.cut_replies < maxCutReplies) continue;
        fail.run(now, id);
        failed.push(id);
      }
      return failed;
    });
  }

  expireDue(now: number): number {
    return this.commitNow(() => {
      const expired = this.conn
        .stmt("UPDATE commands SET state = 'expired' WHERE state = 'queued' AND time_expires <= ?")
        .run(now).changes;
      this.conn
        .stmt(
          "DELETE FROM commands WHERE id IN (SELECT id FROM commands WHERE state != 'queued' AND time_expires <= ? ORDER BY id LIMIT ?)",
        )
        .run(now - KEEP_FINISHED_MS, FORGET_BATCH);
      return expired;
    });
  }

  list(spot: string, page: CommandPage): Command[] {
    const maxBytes = page.maxBytes ?? Number.POSITIVE_INFINITY;
    const rows =
      page.after !== undefined
        ? this.conn.stmt(`SELECT ${COLUMNS} FROM commands WHERE spot = ? AND id > ? ORDER BY id LIMIT ?`).iterate(spot, page.after, page.limit)
        : this.conn
            .stmt(`SELECT ${COLUMNS} FROM commands WHERE spot = ? AND id < ? ORDER BY id DESC LIMIT ?`)
            .iterate(spot, page.before ?? Number.MAX_SAFE_INTEGER, page.limit);
    return takeWithin(rows as IterableIterator<CommandRow>, page.limit, maxBytes);
  }

  get(id: number): Command | null {
    const r = this.conn.stmt(`SELECT ${COLUMNS} FROM commands WHERE id = ?`).get(id) as CommandRow | undefined;
    return r ? fromRow(r) : null;
  }
}
