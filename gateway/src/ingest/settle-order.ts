// Which appends of one stream have all settled, in the order they were handed to the store.

/**
 * Tickets handed out in order; `all()` resolves once every ticket issued before the call has
 * settled, whatever order they settle in. What a WebSocket acknowledgement waits for: the
 * appends of every message up to the one acknowledged.
 */
export class SettleOrder {
  private issued = 0;
  /** Every ticket below this one has settled. */
  private floor = 0;
  private readonly early = new Set<number>();
  /** Waiting for `upTo`, in the order they came (so `upTo` never decreases). */
  private waiters: Array<{ upTo: number; resolve: () => void }> = [];

  issue(): number {
    return this.issued++;
  }

  settle(ticket: number): void {
    this.early.add(ticket);
    while (this.early.delete(this.floor)) this.floor++;
    let n = 0;
    while (n < this.waiters.length && this.waiters[n]!.upTo <= this.floor) this.waiters[n++]!.resolve();
    if (n > 0) this.waiters = this.waiters.slice(n);
  }

  /** Resolves once every ticket issued so far has settled. */
  all(): Promise<void> {
    const upTo = this.issued;
    if (this.floor >= upTo) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ upTo, resolve }));
  }
}
