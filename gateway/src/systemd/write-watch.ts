// How long store writes have been waiting for the disk (commit and WAL fsync) without any of
// them completing: a disk that hangs leaves writes waiting with the event loop still turning,
// which only this sees. O(1) per write: it sits on the ingest path.

export class WriteWatch {
  private waiting = 0;
  /** When a write last completed, or when one began waiting with none waiting before. */
  private progressAt = 0;

  constructor(private readonly now: () => number) {}

  /** Wraps a write's completion callback: the write waits from now until it is called (with success or failure). */
  track<A extends unknown[]>(done: (...args: A) => void): (...args: A) => void {
    if (this.waiting === 0) this.progressAt = this.now();
    this.waiting++;
    return (...args: A) => {
      this.waiting--;
      this.progressAt = this.now();
      done(...args);
    };
  }

  /** How long writes have waited with none completing, ms; 0 when none waits. */
  waitingMs(): number {
    return this.waiting === 0 ? 0 : Math.max(0, this.now() - this.progressAt);
  }
}
