// Acknowledgements wait for the WAL to be on disk (durability full): one fsync in flight at a
// time, off the event loop; commits that land meanwhile wait for the next one (group fsync).
import type { SyncHistogram } from './sync-histogram.js';
import type { StoreUnavailableError } from './types.js';
import type { WalSync } from './wal-sync.js';

export interface Acknowledgement {
  ack(): void;
  fail(err: StoreUnavailableError): void;
}

export class DurableAcks {
  private waiting: Acknowledgement[] = [];
  private syncing: Acknowledgement[] | null = null;

  constructor(
    private readonly wal: WalSync | null,
    /** Turns an fsync failure into the error the appends reject with (and logs it). */
    private readonly failure: (err: unknown) => StoreUnavailableError,
    /** Where each fsync's duration goes. */
    private readonly times: SyncHistogram | null = null,
    /** Monotonic milliseconds, to time the fsyncs. */
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Committed: acknowledged at once without a WalSync, else after the next fsync. */
  add(a: Acknowledgement): void {
    if (!this.wal) {
      a.ack();
      return;
    }
    this.waiting.push(a);
    if (!this.syncing) this.start();
  }

  /** Waits for the disk: everything committed so far is durable and acknowledged on return. */
  syncNow(): void {
    const all = [...(this.syncing ?? []), ...this.waiting];
    this.syncing = null;
    this.waiting = [];
    let error: unknown = null;
    const began = this.clock();
    try {
      this.wal?.syncNow();
    } catch (err) {
      error = err;
    }
    if (this.wal) this.times?.record(this.clock() - began);
    const e = error === null ? null : this.failure(error);
    this.settle(all, e);
    if (e) throw e;
  }

  private start(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.syncing = batch;
    const began = this.clock();
    this.wal!.sync((err) => {
      this.times?.record(this.clock() - began);
      // syncNow settled this batch already (and a later start() may own `syncing`).
      if (this.syncing !== batch) return;
      this.syncing = null;
      this.settle(batch, err ? this.failure(err) : null);
      if (this.waiting.length > 0) this.start();
    });
  }

  private settle(batch: Acknowledgement[], err: StoreUnavailableError | null): void {
    for (const a of batch) {
      if (err) a.fail(err);
      else a.ack();
    }
  }
}
