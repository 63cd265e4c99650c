// How long the oldest store write has been waiting for the disk (commit and WAL fsync): a disk
// that hangs leaves writes waiting with the event loop still turning, which only this sees.

export class WriteWatch {
  /** Start time of each write still waiting; a Map keeps insertion order, so the first is the oldest. */
  private readonly waiting = new Map<number, number>();
  private nextId = 0;

  constructor(private readonly now: () => number) {}

  /** Wraps a write's completion callback: the write waits from now until it is called (with success or failure). */
  track<A extends unknown[]>(done: (...args: A) => void): (...args: A) => void {
    const id = this.nextId++;
    this.waiting.set(id, this.now());
    return (...args: A) => {
      this.waiting.delete(id);
      done(...args);
    };
  }

  /** Age of the oldest write still waiting, ms; 0 when none waits. */
  waitingMs(): number {
    for (const started of this.waiting.values()) return Math.max(0, this.now() - started);
    return 0;
  }
}
