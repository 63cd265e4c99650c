// Which spot publishes next: round robin over spots with unread events, a bounded batch per turn,
// so a huge backlog of one spot drains fast without starving live events of the others.

export interface SpotBacklog {
  spot: string;
  /** Highest event id already acked upstream (read resumes after it). */
  cursor: number;
  /** Highest event id stored for the spot. */
  lastId: number;
}

interface SpotProgress {
  /** Highest id handed to the broker on this connection. */
  readPos: number;
  /** Highest id known to be stored. */
  known: number;
}

export class FairScheduler {
  private readonly progress = new Map<string, SpotProgress>();
  private queue: string[] = [];
  private head = 0;
  private readonly queued = new Set<string>();

  /** After (re)connecting: every spot resumes right after its cursor. */
  reset(backlogs: Iterable<SpotBacklog>): void {
    this.progress.clear();
    this.queue = [];
    this.head = 0;
    this.queued.clear();
    for (const b of backlogs) {
      this.progress.set(b.spot, { readPos: b.cursor, known: b.lastId });
      if (b.lastId > b.cursor) this.enqueue(b.spot);
    }
  }

  /** The store committed events for a spot, up to lastId; `cursorOf` is asked only for a spot not tracked yet. */
  appended(spot: string, lastId: number, cursorOf: (spot: string) => number): void {
    let p = this.progress.get(spot);
    if (!p) {
      p = { readPos: cursorOf(spot), known: lastId };
      this.progress.set(spot, p);
    } else if (lastId > p.known) {
      p.known = lastId;
    }
    if (p.known > p.readPos) this.enqueue(spot);
  }

  /** The next spot to read for and the id to read after, or undefined when nothing is unread. */
  next(): { spot: string; afterId: number } | undefined {
    while (this.head < this.queue.length) {
      const spot = this.queue[this.head++]!;
      this.queued.delete(spot);
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      const p = this.progress.get(spot);
      if (p) return { spot, afterId: p.readPos };
    }
    return undefined;
  }

  /**
   * The turn of `spot` ended having handed events up to `readPos` to the broker.
   * `more`: the read may have left events behind (batch full or window full).
   * `readNow`: this turn read the store; a short read then proves nothing is stored beyond
   * `readPos`. A turn served from read-ahead proves nothing: appends seen since still count.
   */
  turnDone(spot: string, readPos: number, more: boolean, readNow = true): void {
    const p = this.progress.get(spot);
    if (!p) return;
    if (readPos > p.readPos) p.readPos = readPos;
    if (more) {
      if (p.known < p.readPos + 1) p.known = p.readPos + 1;
      this.enqueue(spot);
    } else if (readNow) {
      p.known = p.readPos;
    } else if (p.known > p.readPos) {
      this.enqueue(spot);
    }
  }

  /**
   * Stops tracking the spot when nothing of it is unread or waiting for a turn and everything read
   * is acknowledged (`cursor`, the store's): when it next gets events it starts again from its
   * cursor, as a spot never seen on this connection does. Returns whether it was dropped.
   */
  release(spot: string, cursor: number): boolean {
    const p = this.progress.get(spot);
    if (!p || this.queued.has(spot) || p.known > p.readPos || cursor < p.readPos) return false;
    this.progress.delete(spot);
    return true;
  }

  /** The spots tracked on this connection. */
  tracked(): IterableIterator<string> {
    return this.progress.keys();
  }

  get trackedCount(): number {
    return this.progress.size;
  }

  /** Spots waiting for a turn. */
  get waiting(): number {
    return this.queued.size;
  }

  private enqueue(spot: string): void {
    if (this.queued.has(spot)) return;
    this.queued.add(spot);
    this.queue.push(spot);
  }
}
